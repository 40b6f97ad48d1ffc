"""Only the tool's base URL is ever reached; hooks add credentials and verify calls."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from core.domain import ParamLocation, Tool
from core.errors import ExecutionError
from core.execution import CallContext, HttpExecutor, canonical_args_hash

from .backend import BODY, Backend, Reply, make_tool, param


def test_redirect_to_another_host_is_refused_and_never_reached(
    executor: HttpExecutor,
    backend: Backend,
    base_url: str,
    ctx: CallContext,
    other: tuple[Backend, str],
) -> None:
    elsewhere, elsewhere_url = other
    backend.script("/v1/things", Reply(302, None, {"Location": f"{elsewhere_url}/steal?x=1"}))

    result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.status_code == 302
    assert result.error is not None
    assert result.error.startswith(f"redirect to {elsewhere_url}/steal refused")
    assert not result.ok and result.retryable is False
    assert len(backend.seen) == 1
    assert elsewhere.seen == []


def test_redirect_out_of_the_base_path_is_refused(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/things", Reply(307, None, {"Location": "/admin/users"}))
    result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.error is not None and "leaves the base path" in result.error
    assert [s.raw_path for s in backend.seen] == ["/v1/things"]


def test_same_origin_redirect_of_a_get_is_followed(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/things", Reply(301, None, {"Location": "/v1/things-v2?page=2"}))
    backend.script("/v1/things-v2", Reply(200, {"moved": True}))

    result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.ok and result.body == {"moved": True}
    assert [(s.raw_path, s.query) for s in backend.seen] == [
        ("/v1/things", ""),
        ("/v1/things-v2", "page=2"),
    ]


def test_redirect_loops_stop(backend: Backend, base_url: str, ctx: CallContext) -> None:
    backend.script("/v1/things", Reply(302, None, {"Location": "/v1/things"}))
    with HttpExecutor(max_redirects=2, max_attempts=1) as executor:
        result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.error == "more than 2 redirects"
    assert len(backend.seen) == 3


def test_a_redirected_write_is_not_resent(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/orders", Reply(307, None, {"Location": "/v1/orders-new"}))
    tool = make_tool(base_url, method="POST", path="/orders", params=(BODY,))

    result = executor.execute(tool, {"body": {"qty": 1}}, ctx)

    assert result.status_code == 307
    assert result.error is not None and "not followed for POST" in result.error
    assert [s.raw_path for s in backend.seen] == ["/v1/orders"]


class BearerAuthorizer:
    """Adds a bearer token and a digest of the exact body, as a signer would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def authorize(self, tool: Tool, request: httpx.Request, ctx: CallContext) -> None:
        self.calls.append((tool.name, ctx.run_id))
        request.headers["Authorization"] = f"Bearer token-for-{tool.name}"
        request.headers["X-Content-Sha256"] = hashlib.sha256(request.content).hexdigest()


def test_authorizer_adds_credentials_the_server_sees(
    backend: Backend, base_url: str, ctx: CallContext
) -> None:
    authorizer = BearerAuthorizer()
    tool = make_tool(base_url, method="POST", path="/orders", params=(BODY,), name="orders")
    with HttpExecutor(authorizer=authorizer) as executor:
        result = executor.execute(tool, {"body": {"qty": 5, "part": "P-100"}}, ctx)

    assert result.ok
    [seen] = backend.seen
    assert seen.headers["authorization"] == "Bearer token-for-orders"
    assert seen.headers["x-content-sha256"] == hashlib.sha256(seen.body).hexdigest()
    assert authorizer.calls == [("orders", "run-1")]


def test_authorizer_runs_again_on_each_attempt(
    backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/things", Reply(503, None), Reply(200, {}))
    authorizer = BearerAuthorizer()
    with HttpExecutor(authorizer=authorizer, backoff_base=0.0) as executor:
        assert executor.execute(make_tool(base_url), {}, ctx).ok
    assert len(authorizer.calls) == 2


class QueryKeyAuthorizer:
    def __init__(self, target: str | None = None) -> None:
        self.target = target

    def authorize(self, tool: Tool, request: httpx.Request, ctx: CallContext) -> None:
        url = httpx.URL(self.target) if self.target else request.url
        request.url = url.copy_merge_params({"api_key": "s3cret-key"})


def test_an_authorizer_cannot_send_the_call_elsewhere(
    backend: Backend, base_url: str, ctx: CallContext, other: tuple[Backend, str]
) -> None:
    elsewhere, elsewhere_url = other
    with HttpExecutor(authorizer=QueryKeyAuthorizer(elsewhere_url + "/v1/things")) as executor:
        result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.refused is not None and "is not the tool's base URL" in result.refused
    assert elsewhere.seen == [] and backend.seen == []


def test_credentials_in_the_query_never_reach_error_messages(
    unaccepting_port: int, ctx: CallContext
) -> None:
    tool = make_tool(f"http://127.0.0.1:{unaccepting_port}/v1")
    with HttpExecutor(
        authorizer=QueryKeyAuthorizer(), connect_timeout=0.1, max_attempts=1
    ) as executor:
        result = executor.execute(tool, {}, ctx)

    assert result.error is not None and "timeout" in result.error
    assert "s3cret" not in result.model_dump_json()


class FailingAuthorizer:
    def authorize(self, tool: Tool, request: httpx.Request, ctx: CallContext) -> None:
        raise ExecutionError("no credential for scheme entra", retryable=False)


def test_authorizer_failure_sends_nothing(
    backend: Backend, base_url: str, ctx: CallContext
) -> None:
    with HttpExecutor(authorizer=FailingAuthorizer()) as executor:
        result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.error == "authorization failed: no credential for scheme entra"
    assert result.status_code is None and backend.seen == []


class HashBoundVerifier:
    """Accepts a call only if its token names exactly these arguments (as tokens will)."""

    def verify(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> str | None:
        if ctx.capability_token != canonical_args_hash(tool.name, args):
            return "capability token does not match the call's arguments"
        return None


def test_verifier_refusal_sends_nothing(backend: Backend, base_url: str) -> None:
    tool = make_tool(
        base_url,
        method="DELETE",
        path="/vendors/{id}",
        params=(param("id", ParamLocation.PATH, required=True),),
        name="rm",
    )
    token = canonical_args_hash("rm", {"id": "V-1"})
    good = CallContext(run_id="r", step_index=0, call_index=0, capability_token=token)
    with HttpExecutor(verifier=HashBoundVerifier()) as executor:
        refused = executor.execute(tool, {"id": "V-2"}, good)
        assert backend.seen == []
        accepted = executor.execute(tool, {"id": "V-1"}, good)

    assert refused.refused == "capability token does not match the call's arguments"
    assert refused.error == f"refused: {refused.refused}"
    assert (refused.status_code, refused.attempts) == (None, 0)
    assert accepted.ok
    assert [(s.method, s.raw_path) for s in backend.seen] == [("DELETE", "/v1/vendors/V-1")]
