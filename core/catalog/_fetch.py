"""Bounded reads for the spec loader: an http(s) download that re-checks every redirect hop and
stops at a byte cap, and a gunzip that stops at its own cap (a gzip bomb never expands)."""

from __future__ import annotations

import zlib
from urllib.parse import urljoin, urlsplit

import httpx

from core.catalog.limits import LoadLimits
from core.errors import SpecError

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 * 1024


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def fetch_bounded(
    url: str, *, client: httpx.Client | None, timeout: float, limits: LoadLimits
) -> bytes:
    """GET ``url`` following at most ``max_redirects`` redirects by hand: each hop must be
    http(s) on an allowed host (``limits.allowed_hosts``, else the first URL's host); the body
    is read raw (no transfer decoding) and refused past ``max_download_bytes``."""
    allowed = limits.allowed_hosts if limits.allowed_hosts is not None else {_host(url)}
    own = client is None
    http = client if client is not None else httpx.Client(timeout=timeout)
    try:
        current = url
        for _ in range(limits.max_redirects + 1):
            host = _host(current)
            if urlsplit(current).scheme not in ("http", "https") or host not in allowed:
                where = "" if current == url else f" (redirected to {current})"
                raise SpecError(
                    f"cannot fetch spec {url}{where}: host {host or '?'!r} is not one this "
                    "deployment lets catalogs come from"
                )
            nxt = _get(http, url, current, limits.max_download_bytes)
            if isinstance(nxt, bytes):
                return nxt
            current = nxt
        raise SpecError(f"cannot fetch spec {url}: more than {limits.max_redirects} redirects")
    except httpx.HTTPError as exc:
        raise SpecError(f"cannot fetch spec {url}: {type(exc).__name__}: {exc}") from exc
    finally:
        if own:
            http.close()


def _get(http: httpx.Client, url: str, current: str, cap: int) -> bytes | str:
    """The body at ``current``, or the URL it redirects to."""
    with http.stream("GET", current, follow_redirects=False) as response:
        if response.is_redirect:
            return urljoin(current, str(response.headers.get("location", "")))
        if response.status_code >= 400:
            raise SpecError(f"cannot fetch spec {url}: HTTP {response.status_code}")
        encoding = response.headers.get("content-encoding", "identity").lower().strip()
        if encoding not in ("identity", "gzip", ""):
            raise SpecError(f"cannot fetch spec {url}: unsupported Content-Encoding {encoding}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _over(url, cap)
        body = bytearray()
        for chunk in response.iter_raw(_CHUNK):
            body += chunk
            if len(body) > cap:
                raise _over(url, cap)
        return bytes(body)


def _over(source: str, cap: int) -> SpecError:
    return SpecError(f"{source}: larger than {cap:,} bytes (PADDOCK_CATALOG_MAX_DOWNLOAD_BYTES)")


def gunzip(raw: bytes, source: str, cap: int) -> bytes:
    """Decompress every gzip member of ``raw``, refusing output past ``cap`` bytes."""
    out = bytearray()
    data = raw
    try:
        while data:
            inflater = zlib.decompressobj(wbits=31)
            while not inflater.eof:
                # at most 1 MiB a call, never more than one byte past the cap (and never 0,
                # which would mean "no limit")
                out += inflater.decompress(data, min(_CHUNK * 16, cap + 1 - len(out)))
                if len(out) > cap:
                    raise SpecError(
                        f"{source}: expands to more than {cap:,} bytes "
                        "(PADDOCK_CATALOG_MAX_DECOMPRESSED_BYTES)"
                    )
                data = inflater.unconsumed_tail
                if not data and not inflater.eof:
                    raise SpecError(f"{source}: not a valid gzip file (truncated)")
            data = inflater.unused_data
            if data[:2] != GZIP_MAGIC and not data.strip(b"\0"):
                break  # trailing padding
    except zlib.error as exc:
        raise SpecError(f"{source}: not a valid gzip file ({exc})") from exc
    return bytes(out)
