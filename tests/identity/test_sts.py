"""STS on moto: short-lived credentials whose session policy names only the call's resource."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest

from core.execution.base import CallContext
from core.execution.http import HttpExecutor
from core.identity import AwsTarget, Credential, IdentityAuthorizer, StsRoleCredentials
from paddock.local.verify import sigv4_verifier
from tests.identity.backend import GuardedBackend, sigv4_auth, tool

pytestmark = pytest.mark.emulators

ROLE = "arn:aws:iam::123456789012:role/paddock-tools"
REGION = "eu-central-1"


class RecordingSts(StsRoleCredentials):
    """The real STS source; remembers the secrets it obtained so the test service can verify."""

    issued: dict[str, str]

    def credentials(self, policy: str | None, session_name: str) -> Credential:
        found = super().credentials(policy, session_name)
        self.issued[found.secret["access_key_id"]] = found.secret["secret_access_key"]
        return found


@pytest.fixture()
def sts(aws_client: Callable[[str], Any]) -> tuple[Any, list[dict[str, list[str]]]]:
    client = aws_client("sts")
    sent: list[dict[str, list[str]]] = []

    def capture(request: Any, **_: Any) -> None:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        sent.append(parse_qs(body or ""))

    client.meta.events.register("before-send.sts.*", capture)
    return client, sent


def _authorizer(source: StsRoleCredentials) -> IdentityAuthorizer:
    return IdentityAuthorizer(aws=source, target=AwsTarget.from_role(ROLE, region=REGION))


def test_each_call_gets_a_session_policy_for_exactly_its_resource(
    sts: tuple[Any, list[dict[str, list[str]]]], backend: GuardedBackend
) -> None:
    client, sent = sts
    source = RecordingSts(client, ROLE)
    source.issued = {}
    backend.check = sigv4_verifier(source.issued.get, service="execute-api", region=REGION)
    reader = tool(backend.url, auth=sigv4_auth(REGION))
    with HttpExecutor(authorizer=_authorizer(source)) as executor:
        ctx = CallContext(run_id="run_sts", step_index=3, call_index=1)
        first = executor.execute(reader, {"item_id": "A-1"}, ctx)
        again = executor.execute(reader, {"item_id": "A-1"}, ctx)  # same scope: cached
        other = executor.execute(reader, {"item_id": "B-2"}, ctx)
    assert [first.status_code, again.status_code, other.status_code] == [200, 200, 200]
    assert [r["Action"] for r in sent] == [["AssumeRole"], ["AssumeRole"]]
    host = "127-0-0-1-" + backend.url.rsplit(":", 1)[1]
    for request, item in zip(sent, ("A-1", "B-2"), strict=True):
        policy = json.loads(request["Policy"][0])
        assert policy == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": f"arn:aws:execute-api:{REGION}:123456789012:{host}/$default/GET"
                    f"/items/{item}",
                }
            ],
        }
        assert request["DurationSeconds"] == ["900"]
        assert request["RoleArn"] == [ROLE]
        assert request["RoleSessionName"] == ["paddock-run_sts-3-1"]


def test_credentials_are_short_lived(sts: tuple[Any, list[dict[str, list[str]]]]) -> None:
    client, _ = sts
    found = StsRoleCredentials(client, ROLE).credentials('{"Version":"2012-10-17"}', "paddock-s")
    assert found.secret["access_key_id"].startswith("ASIA")
    assert found.secret["session_token"]
    assert found.expires_at is not None and found.expires_at - time.time() <= 901
    assert "secret" not in repr(found) and found.secret["secret_access_key"] not in repr(found)


def test_web_identity_is_exchanged_with_the_policy(
    sts: tuple[Any, list[dict[str, list[str]]]],
) -> None:
    from paddock.local.issuer import LocalIssuer

    client, sent = sts
    workload = LocalIssuer().token("mi-principal", "tenant-1", audience="api://paddock-aws")
    source = StsRoleCredentials(client, ROLE, web_identity=lambda: workload)
    found = source.credentials('{"Version":"2012-10-17","Statement":[]}', "paddock-r-0-0")
    assert found.source == f"sts:AssumeRoleWithWebIdentity {ROLE}"
    [request] = sent
    assert request["Action"] == ["AssumeRoleWithWebIdentity"]
    assert request["WebIdentityToken"] == [workload]
    assert request["Policy"] == ['{"Version":"2012-10-17","Statement":[]}']


def test_sts_refusal_is_a_clear_credential_error(
    sts: tuple[Any, list[dict[str, list[str]]]], backend: GuardedBackend
) -> None:
    client, _ = sts
    source = StsRoleCredentials(client, "arn:aws:iam::1")  # too short: STS cannot be asked
    reader = tool(backend.url, auth=sigv4_auth(REGION))
    with HttpExecutor(authorizer=_authorizer(source), max_attempts=1) as executor:
        result = executor.execute(
            reader, {"item_id": "A-1"}, CallContext(run_id="r", step_index=0, call_index=0)
        )
    assert result.error is not None
    assert result.error.startswith("authorization failed: STS request for sts:AssumeRole")
    assert backend.seen == []
