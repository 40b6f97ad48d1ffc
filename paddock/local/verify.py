"""Service-side checks, for local services that stand in for API Gateway, Entra-protected
APIs and SaaS APIs: they verify the credentials the authorizer attached.

Each ``*_verifier`` returns a function ``(starlette Request) -> reason | None`` that the
scenario services accept as ``verify_auth``; :func:`all_of` chains several (a credential
check, then :func:`capability_verifier`, which also refuses replayed requests).
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt
from starlette.requests import Request

from core.execution.hooks import CAPABILITY_HEADER

if TYPE_CHECKING:
    from core.identity.keys import KeyRing
    from core.identity.replay import SeenJtiStore

RequestVerifier = Callable[[Request], Awaitable[str | None]]
SecretLookup = Callable[[str], str | None]
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*"
    r"Signature=([0-9a-f]{64})$"
)


def verify_sigv4(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    lookup: SecretLookup,
    service: str,
    region: str,
    now: float | None = None,
    max_skew: float = 300.0,
) -> str | None:
    """Why this SigV4-signed request is refused, or ``None`` when the signature holds.

    Recomputes the signature with botocore from the headers the client says it signed;
    ``host`` and ``x-amz-date`` must be among them, and the request must be fresh.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from core.identity.aws import quiet_botocore_auth

    quiet_botocore_auth()
    lowered = {k.lower(): v for k, v in headers.items()}
    found = _AUTH.match(lowered.get("authorization", ""))
    if found is None:
        return "missing or malformed SigV4 Authorization header"
    credential, signed_names, signature = found.groups()
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return "malformed SigV4 credential scope"
    access_key, day, scope_region, scope_service = parts[:4]
    if (scope_region, scope_service) != (region, service):
        return f"signed for {scope_service} in {scope_region}, not {service} in {region}"
    names = signed_names.split(";")
    if "host" not in names or "x-amz-date" not in names:
        return "host and x-amz-date must be signed"
    if any(name not in lowered for name in names):
        return "a signed header is missing"
    amz_date = lowered["x-amz-date"]
    try:
        moment = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "malformed x-amz-date"
    if amz_date[:8] != day:
        return "x-amz-date does not match the credential scope"
    if abs((now if now is not None else time.time()) - moment.timestamp()) > max_skew:
        return "request signature expired"
    secret = lookup(access_key)
    if secret is None:
        return "unknown access key"
    request = AWSRequest(
        method=method, url=url, data=body, headers={name: lowered[name] for name in names}
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(
        Credentials(access_key, secret, lowered.get("x-amz-security-token")), service, region
    )
    canonical = signer.canonical_request(request)
    if signer.signed_headers(signer.headers_to_sign(request)) != signed_names:
        return "signed header list does not match"
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, signature):
        return "signature does not match"
    return None


def _full_url(request: Request) -> str:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    host = request.headers.get("host", "")
    url = f"{request.url.scheme}://{host}{raw.decode('latin-1')}"
    return url + ("?" + query.decode("latin-1") if query else "")


def sigv4_verifier(
    lookup: SecretLookup, *, service: str, region: str, max_skew: float = 300.0
) -> RequestVerifier:
    """A ``verify_auth`` that accepts only requests SigV4-signed with a known key."""

    async def verify(request: Request) -> str | None:
        body = getattr(request.state, "body", None)
        if body is None:
            body = await request.body()
        return verify_sigv4(
            request.method,
            _full_url(request),
            dict(request.headers),
            body,
            lookup=lookup,
            service=service,
            region=region,
            max_skew=max_skew,
        )

    return verify


def bearer_jwt_verifier(
    jwks: Callable[[], Mapping[str, Any]],
    *,
    issuer: str,
    audience: str,
    algorithms: tuple[str, ...] = ("RS256",),
) -> RequestVerifier:
    """A ``verify_auth`` for an Entra-style API: a bearer JWT from ``issuer`` for ``audience``.

    ``jwks`` returns the issuer's JWKS document (fetched or in-process).
    """

    async def verify(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return "missing bearer token"
        return check_jwt(
            header[7:].strip(), jwks(), issuer=issuer, audience=audience, algorithms=algorithms
        )

    return verify


def check_jwt(
    token: str,
    jwks: Mapping[str, Any],
    *,
    issuer: str,
    audience: str,
    algorithms: tuple[str, ...] = ("RS256",),
) -> str | None:
    """Why ``token`` is refused for ``audience``, or ``None``."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        keys = {str(k.get("kid")): k for k in jwks.get("keys", [])}
        if kid not in keys:
            return "token signed by an unknown key"
        key = jwt.PyJWK(keys[kid]).key
        jwt.decode(
            token,
            key,
            algorithms=list(algorithms),
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "aud", "iss"]},
        )
    except jwt.InvalidAudienceError:
        return f"token is not for audience {audience}"
    except jwt.ExpiredSignatureError:
        return "token expired"
    except jwt.InvalidTokenError as exc:
        return f"invalid token: {exc}"
    return None


def api_key_verifier(
    expected: Callable[[], str | None], *, header: str = "X-Api-Key"
) -> RequestVerifier:
    """A ``verify_auth`` accepting only ``expected()`` in ``header`` (constant-time compare)."""

    async def verify(request: Request) -> str | None:
        given = request.headers.get(header)
        if given is None:
            return f"missing {header} header"
        wanted = expected()
        if wanted is None or not hmac.compare_digest(given.encode(), wanted.encode()):
            return f"invalid {header}"
        return None

    return verify


def capability_verifier(
    keys: KeyRing,
    *,
    seen: SeenJtiStore | None = None,
    header: str = CAPABILITY_HEADER,
    leeway: float = 0.0,
    clock: Callable[[], float] = time.time,
) -> RequestVerifier:
    """A ``verify_auth`` accepting each capability token in ``header`` once.

    The token must be signed by a key of ``keys`` (public keys suffice), unexpired, and not
    seen before by ``seen`` (default: this verifier's own
    :class:`~core.identity.replay.MemoryJtiStore`; a
    :class:`~core.identity.replay.RunStoreJtiStore` shares it between replicas). A replayed
    request is refused, as is any request once ``seen`` is full.
    """
    from core.identity.capability import CapabilityVerifier
    from core.identity.replay import MemoryJtiStore

    tokens = CapabilityVerifier(
        keys, leeway=leeway, clock=clock, seen=seen if seen is not None else MemoryJtiStore()
    )

    async def verify(request: Request) -> str | None:
        claims, refusal = tokens.checked_claims(request.headers.get(header))
        if claims is None:
            return refusal
        return tokens.replay_refusal(claims)

    return verify


def all_of(*verifiers: RequestVerifier) -> RequestVerifier:
    """A ``verify_auth`` that runs ``verifiers`` in order and returns the first refusal.

    Put credential checks before :func:`capability_verifier`, so a request without valid
    credentials never uses up a token.
    """

    async def verify(request: Request) -> str | None:
        for check in verifiers:
            reason = await check(request)
            if reason is not None:
                return reason
        return None

    return verify
