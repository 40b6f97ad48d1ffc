"""Where a scenario run's base URL overrides may point in local mode.

A scenario's tools carry that scenario's local credentials (API keys, bearer tokens, SigV4
signatures). In local mode every service listens on a loopback port, so "loopback only" is not
enough: any process on the machine can listen there. A request may point a scenario's tools
only at the ports of the services that scenario started, or at ports the operator lists in
``PADDOCK_LOCAL_BASE_URL_PORTS``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from core.api.errors import ApiError

LOOPBACK = frozenset({"127.0.0.1", "localhost"})
"""The hosts a request may name in local mode unless the operator says otherwise."""
PORTS_SETTING = "PADDOCK_LOCAL_BASE_URL_PORTS"
"""The setting that lists more ports (``core.settings.LocalSettings.base_url_ports``)."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _port(url: str) -> tuple[str, int | None]:
    """The URL's host and port (the scheme's default when none is written); port ``None``
    when the URL has an unreadable port."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "", None
    try:
        port = parts.port
    except ValueError:
        return host, None
    return host, port or _DEFAULT_PORTS.get(parts.scheme.lower())


def is_local(host: str) -> bool:
    """Whether ``host`` reaches this machine: ``localhost`` names, loopback or unspecified
    addresses (``127.0.0.2``, ``::1`` and ``0.0.0.0`` too, should an allow-list name them)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def service_ports(urls: Iterable[str]) -> frozenset[int]:
    """The loopback ports of a scenario's running services (from their base URLs)."""
    found: set[int] = set()
    for url in urls:
        host, port = _port(url)
        if is_local(host) and port is not None:
            found.add(port)
    return frozenset(found)


def check_scenario_base_urls(
    overrides: Mapping[str, str], *, scenario: str, allowed_ports: frozenset[int]
) -> None:
    """Refuse (400 ``base_url_not_allowed``) an override that names a loopback host on a port
    outside ``allowed_ports``. Other hosts are left to the deployment's host allow-list."""
    for title, url in overrides.items():
        host, port = _port(url)
        if not is_local(host):
            continue
        if port is None or port not in allowed_ports:
            ports = ", ".join(str(p) for p in sorted(allowed_ports)) or "none"
            raise ApiError(
                400,
                "base_url_not_allowed",
                f"base_urls[{title!r}] = {url!r}: in local mode a scenario's tools "
                f"may only point at the ports of the services {scenario!r} started "
                f"or listed in {PORTS_SETTING} (allowed: {ports})",
            )
