"""The deployment and the handlers agree: entry points, event format, queue binding, routes.

Reads the handler sources as text/AST (never imports them), so it needs no Powertools or
azure-functions; a missing handler file fails its check.
"""

from __future__ import annotations

import ast
import json

import pytest

from .harness import INFRA

ROOT = INFRA.parent


def _source(relative: str) -> str:
    path = ROOT / relative
    return path.read_text()


def _module_names(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return names


@pytest.mark.parametrize("role", ["http", "worker"])
def test_lambda_handler_strings_name_real_module_attributes(stack, role: str) -> None:
    fn = stack("aws").one("aws:lambda/function:Function", role)
    module, attribute = fn.plain("handler").rsplit(".", 1)
    source = _source(module.replace(".", "/") + ".py")
    assert attribute in _module_names(source)


def test_http_api_event_format_matches_the_resolver(stack) -> None:
    source = _source("functions/aws/http_handler.py")
    integration = stack("aws").one("aws:apigatewayv2/integration:Integration")
    # Payload 2.0 is what APIGatewayHttpResolver parses (the REST resolver wants 1.0).
    assert integration.plain("payloadFormatVersion") == "2.0"
    assert "APIGatewayHttpResolver" in source


def test_worker_reports_batch_item_failures_as_the_mapping_expects(stack) -> None:
    source = _source("functions/aws/worker_handler.py")
    esm = stack("aws").one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert esm.plain("functionResponseTypes") == ["ReportBatchItemFailures"]
    assert "process_partial_response" in source


def test_queue_trigger_binds_to_the_deployed_queue_by_identity(stack) -> None:
    source = _source("functions/azure/function_app.py")
    settings = {
        p["name"]: p["value"]
        for p in stack("azure").one("azure-native:web:WebApp").plain("siteConfig")["appSettings"]
    }
    assert '"%PADDOCK_QUEUE_NAME%"' in source and "PADDOCK_QUEUE_NAME" in settings
    assert '"AzureWebJobsStorage"' in source
    assert "AzureWebJobsStorage__accountName" in settings


def test_host_route_prefix_matches_the_exported_api_url(stack) -> None:
    host = json.loads(_source("functions/azure/host.json"))
    prefix = host.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    s = stack("azure")
    root = "https://" + s.one("azure-native:web:WebApp").outputs["defaultHostName"]
    assert s.outputs["azureApiUrl"] == (f"{root}/{prefix}" if prefix else root)


def test_worker_timeout_fits_in_the_queue_visibility(stack) -> None:
    host = json.loads(_source("functions/azure/host.json"))
    s = stack("aws")
    work = next(q for q in s.of_type("aws:sqs/queue:Queue") if q.name.endswith("-work"))
    worker = s.one("aws:lambda/function:Function", "worker")
    assert work.plain("visibilityTimeoutSeconds") >= worker.plain("timeout")
    hours, minutes, seconds = (int(x) for x in host["functionTimeout"].split(":"))
    assert hours * 3600 + minutes * 60 + seconds <= 30 * 60  # Flex/Consumption default cap
