"""schemathesis against /openapi.json on the local dev server, through both adapters.

Every generated request (valid and invalid bodies, queries, path ids, missing auth) must get a
documented status with a body matching the documented schema, and never a 5xx. The one check
left out is ``positive_data_acceptance``: a schema-valid cursor, host or approval id can still
be refused with a 4xx naming why, which is what the API promises.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from core.api.routes import ROUTES
from paddock.dev.server import DevServer

EXAMPLES = 40


@pytest.fixture(scope="module")
def dev() -> Iterator[DevServer]:
    with DevServer(backend="memory", env={}, workers=False) as server:
        yield server


@pytest.mark.parametrize("adapter", ["aws", "azure"])
def test_no_server_errors_and_responses_match_the_document(dev: DevServer, adapter: str) -> None:
    base = f"{dev.url}/{adapter}"
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    schema.config.update(base_url=base)
    headers = {"Authorization": "Bearer " + dev.tokens()["ADMIN"]}
    statuses: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # schemathesis leaves out the document's own URL; everything else is exercised.
    assert {op.label for op in operations} == {
        f"{r.method} {r.path}" for r in ROUTES if r.path != "/openapi.json"
    }

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call_and_validate(
                headers=headers, excluded_checks=[positive_data_acceptance]
            )
            statuses.append(response.status_code)

        check()
    assert statuses and max(statuses) < 500
    assert {200, 202} <= set(statuses)  # the generator reached the success paths too
