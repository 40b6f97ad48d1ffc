"""SigV4: a local service verifying with botocore accepts good requests, rejects tampered ones."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from core.execution.base import CallContext
from core.execution.http import HttpExecutor
from core.identity import Credential, IdentityAuthorizer, StaticAwsCredentials, sign_sigv4
from paddock.local.verify import sigv4_verifier, verify_sigv4
from tests.identity.backend import GuardedBackend, sigv4_auth, tool

REGION = "eu-central-1"


@pytest.fixture()
def keys() -> StaticAwsCredentials:
    return StaticAwsCredentials()


@pytest.fixture()
def signed_backend(backend: GuardedBackend, keys: StaticAwsCredentials) -> GuardedBackend:
    backend.check = sigv4_verifier(keys.secret_for, service="execute-api", region=REGION)
    return backend


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as c:
        yield c


def _credential(keys: StaticAwsCredentials) -> Credential:
    return keys.credentials(None, "test")


def _signed(
    client: httpx.Client, keys: StaticAwsCredentials, method: str, url: str, **kwargs: object
) -> httpx.Request:
    request = client.build_request(method, url, **kwargs)  # type: ignore[arg-type]
    sign_sigv4(request, _credential(keys), service="execute-api", region=REGION)
    return request


def test_executor_calls_carry_a_signature_the_service_accepts(
    signed_backend: GuardedBackend, keys: StaticAwsCredentials
) -> None:
    reader = tool(signed_backend.url, auth=sigv4_auth(REGION))
    writer = tool(signed_backend.url, name="put_item", method="PUT", auth=sigv4_auth(REGION))
    with HttpExecutor(authorizer=IdentityAuthorizer(aws=keys)) as executor:
        ctx = CallContext(run_id="r", step_index=0, call_index=0)
        got = executor.execute(reader, {"item_id": "A 1/ü"[:3]}, ctx)
        put = executor.execute(writer, {"item_id": "B-2", "body": {"qty": 5, "note": "é"}}, ctx)
    assert (got.status_code, put.status_code) == (200, 200), (got.body, put.body)
    assert all(
        s.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=" + keys.access_key_id)
        for s in signed_backend.seen
    )


def test_unsigned_request_is_refused(signed_backend: GuardedBackend, client: httpx.Client) -> None:
    answer = client.get(signed_backend.url + "/items/A-1")
    assert answer.status_code == 401
    assert answer.json()["message"] == "missing or malformed SigV4 Authorization header"


def test_good_request_with_query_and_body_is_accepted(
    signed_backend: GuardedBackend, keys: StaticAwsCredentials, client: httpx.Client
) -> None:
    request = _signed(
        client,
        keys,
        "POST",
        signed_backend.url + "/items?b=2&a=1&a=0",
        json={"x": [1, 2]},
        headers={"Idempotency-Key": "k-1"},
    )
    assert client.send(request).status_code == 200


@pytest.mark.parametrize("tamper", ["body", "path", "query", "signed_header", "method"])
def test_tampered_request_is_refused(
    signed_backend: GuardedBackend, keys: StaticAwsCredentials, client: httpx.Client, tamper: str
) -> None:
    url = signed_backend.url + "/items/A-1?limit=5"
    request = _signed(client, keys, "PUT", url, json={"qty": 5}, headers={"Idempotency-Key": "k-1"})
    headers = dict(request.headers)
    body, method = request.content, "PUT"
    if tamper == "body":
        body = body.replace(b"5", b"9")
        headers["content-length"] = str(len(body))
    elif tamper == "path":
        url = url.replace("A-1", "A-2")
    elif tamper == "query":
        url = url.replace("limit=5", "limit=500")
    elif tamper == "signed_header":
        headers["idempotency-key"] = "k-2"
    else:
        method = "DELETE"
    answer = client.request(method, url, content=body, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["message"] == "signature does not match"
    assert signed_backend.accepted() == []


def test_signature_from_another_key_is_refused(
    signed_backend: GuardedBackend, client: httpx.Client
) -> None:
    stranger = StaticAwsCredentials()
    answer = client.send(_signed(client, stranger, "GET", signed_backend.url + "/items/A-1"))
    assert answer.status_code == 401 and answer.json()["message"] == "unknown access key"


def test_known_key_id_with_a_wrong_secret_is_refused(
    signed_backend: GuardedBackend, keys: StaticAwsCredentials, client: httpx.Client
) -> None:
    impostor = StaticAwsCredentials(keys.access_key_id, "not-the-secret")
    answer = client.send(_signed(client, impostor, "GET", signed_backend.url + "/items/A-1"))
    assert answer.status_code == 401 and answer.json()["message"] == "signature does not match"


def test_replayed_old_signature_is_refused(
    keys: StaticAwsCredentials, client: httpx.Client
) -> None:
    request = _signed(client, keys, "GET", "http://127.0.0.1:9/items/A-1")
    later = time.time() + 600
    reason = verify_sigv4(
        "GET",
        str(request.url),
        dict(request.headers),
        b"",
        lookup=keys.secret_for,
        service="execute-api",
        region=REGION,
        now=later,
    )
    assert reason == "request signature expired"
    assert (
        verify_sigv4(
            "GET",
            str(request.url),
            dict(request.headers),
            b"",
            lookup=keys.secret_for,
            service="execute-api",
            region=REGION,
        )
        is None
    )


def test_signature_for_another_region_or_service_is_refused(
    keys: StaticAwsCredentials, client: httpx.Client
) -> None:
    request = _signed(client, keys, "GET", "http://127.0.0.1:9/items/A-1")
    for service, region in (("execute-api", "us-east-1"), ("s3", REGION)):
        reason = verify_sigv4(
            "GET",
            str(request.url),
            dict(request.headers),
            b"",
            lookup=keys.secret_for,
            service=service,
            region=region,
        )
        assert reason is not None and reason.startswith("signed for execute-api")


def test_session_token_is_signed_and_sent(client: httpx.Client) -> None:
    temporary = Credential(
        secret={
            "access_key_id": "ASIAEXAMPLE0000000",
            "secret_access_key": "s3cr3t",
            "session_token": "tok-1",
        },
        source="test",
        expires_at=time.time() + 900,
    )
    request = client.build_request("GET", "http://127.0.0.1:9/items/A-1")
    sign_sigv4(request, temporary, service="execute-api", region=REGION)
    assert request.headers["x-amz-security-token"] == "tok-1"
    assert "x-amz-security-token" in request.headers["authorization"]
    lookup = {"ASIAEXAMPLE0000000": "s3cr3t"}.get
    assert (
        verify_sigv4(
            "GET",
            str(request.url),
            dict(request.headers),
            b"",
            lookup=lookup,
            service="execute-api",
            region=REGION,
        )
        is None
    )
    swapped = {**dict(request.headers), "x-amz-security-token": "tok-2"}
    assert (
        verify_sigv4(
            "GET",
            str(request.url),
            swapped,
            b"",
            lookup=lookup,
            service="execute-api",
            region=REGION,
        )
        == "signature does not match"
    )
