"""scripts/package: the artefacts are complete and hold what each platform needs.

An x86 interpreter cannot import arm64 extension modules, so the script also builds a
host-platform variant from the same dependency list (only pip's platform flags differ). The
handlers are imported and invoked from that variant in a fresh interpreter whose sys.path holds
only the artefact (and, for Azure, the azure-functions library, which the Functions worker
provides); the target artefacts must hold the same distributions, with extension modules built
for their platform (aarch64 for Lambda, x86_64 for Azure) and CPython 3.12.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

import pytest

from paddock.dev.events import SqsMessage, http_api_event, sqs_event

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]  # builds wheels for two platforms
ROOT = Path(__file__).resolve().parents[2]
SITE = ".python_packages/lib/site-packages"
DEV_ONLY = {"pytest", "moto", "mypy", "ruff", "schemathesis", "hypothesis"}
LOCAL_ONLY = {"starlette", "uvicorn", "fpdf2", "pypdf"}
"""What only the local tooling and the example workflows need (the dev server, local services)."""


def _local_tooling(names: list[str], prefix: str = "") -> set[str]:
    """Top-level folders of the local tooling or example data found in an artefact."""
    tops = {n.removeprefix(prefix).split("/")[0] for n in names if n.startswith(prefix)}
    return tops & {"paddock", "examples", "tests"}


ELF_MACHINE = {"aarch64": 183, "x86_64": 62}

# The events come in as JSON (argv[2]), built by the test with paddock.dev.events: the artefact
# carries no local tooling, so the probe cannot import it.
AWS_PROBE = """
import json, sys
from functions.aws import http_handler, worker_handler
class Context:
    function_name, memory_limit_in_mb, aws_request_id = 'probe', 512, 'req-1'
    invoked_function_arn = 'arn:aws:lambda:eu-central-1:000000000000:function:probe'
    def get_remaining_time_in_millis(self): return 30000
events = json.loads(sys.argv[2])
outside = [p for p in sys.path if 'site-packages' in p and not p.startswith(sys.argv[1])]
health = http_handler.handler(events['health'], Context())
doc = http_handler.handler(events['openapi'], Context())
batch = worker_handler.handler(events['sqs'], Context())
import boto3  # the pruned botocore still builds a client for every service core calls
clients = [boto3.client(s, region_name='eu-central-1').meta.service_model.service_name
           for s in events['services']]
print(json.dumps({'outside': outside, 'health': health['statusCode'],
                  'paths': len(json.loads(doc['body'])['paths']), 'batch': batch,
                  'clients': clients,
                  'modules': sorted({m.split('.')[0] for m in sys.modules})}))
"""

AZURE_PROBE = """
import json, sys
import function_app
import azure.functions as func
fns = {f.get_function_name(): f for f in function_app.app.get_functions()}
req = func.HttpRequest('GET', 'http://localhost/healthz', headers={}, params={}, body=b'')
class Ctx: invocation_id = 'probe'
health = fns['health'].get_user_function()(req, Ctx())
import importlib
# What the infra's settings make the runtime import (Azure Monitor, Key Vault, OTLP).
exporters = [m for m in ('azure.monitor.opentelemetry.exporter', 'azure.keyvault.secrets',
                         'opentelemetry.exporter.otlp.proto.http.trace_exporter')
             if importlib.import_module(m)]
print(json.dumps({'functions': sorted(fns), 'health': health.status_code,
                  'body': health.get_body().decode(), 'exporters': exporters}))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    for platform in ("host", "target"):
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "package"),
                "--out",
                str(out),
                "--platform",
                platform,
            ],
            check=True,
            cwd=ROOT,
        )
    return out


def _unzip(zip_path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def _isolated(code: str, paths: list[Path], *args: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter without site-packages, with only ``paths``."""
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}\n"
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", prelude + code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _copy_distributions(names: list[str], dest: Path) -> Path:
    """Copy installed distributions' files (from their RECORD) into ``dest``."""
    for name in names:
        dist = metadata.distribution(name)
        for file in dist.files or []:
            if ".." in file.parts or "__pycache__" in file.parts:
                continue
            target = dest / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(str(dist.locate_file(file))), target)
    return dest


def _distributions(names: list[str], prefix: str = "") -> set[str]:
    pattern = re.compile(rf"^{re.escape(prefix)}([^/]+)-[^-/]+\.dist-info/METADATA$")
    return {m.group(1).lower().replace("_", "-") for n in names if (m := pattern.match(n))}


def _package_script() -> ModuleType:
    loader = SourceFileLoader("paddock_package_script", str(ROOT / "scripts" / "package"))
    module = ModuleType(loader.name)
    module.__file__ = loader.path
    loader.exec_module(module)
    return module


def test_the_pruned_botocore_keeps_every_service_core_calls() -> None:
    """scripts/package keeps only the botocore models in AWS_SERVICES: every AWS client that
    core (or a cloud adapter) builds must be among them, or it fails in the cloud only."""
    called = set()
    pattern = re.compile(r"""(?:boto3\.client|aws_client|\.client)\(\s*["']([a-z0-9-]+)["']""")
    for folder in ("core", "functions"):
        for path in (ROOT / folder).rglob("*.py"):
            called |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert called, "found no AWS client in core: the pattern is stale"
    assert called <= set(_package_script().AWS_SERVICES), called


def _elf_machines(zf: zipfile.ZipFile) -> set[int]:
    machines = set()
    for name in zf.namelist():
        if name.endswith(".so") or ".so." in name:
            head = zf.read(name)[:20]
            assert head[:4] == b"\x7fELF", name
            machines.add(int.from_bytes(head[18:20], "little"))
    return machines


def test_lambda_artefact_imports_and_answers_with_only_itself_on_the_path(
    built: Path, tmp_path: Path
) -> None:
    root = _unzip(built / "aws-lambda-host.zip", tmp_path / "lambda")
    events = {
        "health": http_api_event("GET", "/healthz"),
        "openapi": http_api_event("GET", "/openapi.json"),
        "sqs": sqs_event([SqsMessage("m1", "r1", "not json")]),
        "services": list(_package_script().AWS_SERVICES),
    }
    result = _isolated(AWS_PROBE, [root], str(root), json.dumps(events))
    assert result["outside"] == []
    assert result["health"] == 200 and result["paths"] == 10
    failures = result["batch"]["batchItemFailures"]  # type: ignore[index]
    assert failures == [{"itemIdentifier": "m1"}]
    assert result["clients"] == list(_package_script().AWS_SERVICES)
    # Nothing the hot path does not need was imported at cold start.
    assert not {"openai", "moto", "pytest"} & set(result["modules"])  # type: ignore[arg-type]


def test_azure_artefact_imports_with_only_itself_and_azure_functions(
    built: Path, tmp_path: Path
) -> None:
    root = _unzip(built / "azure-functionapp-host.zip", tmp_path / "func")
    assert {p.name for p in root.iterdir()} >= {
        "function_app.py",
        "host.json",
        "requirements.txt",
        "core",
    }
    worker_lib = _copy_distributions(
        ["azure-functions", "werkzeug", "markupsafe"], tmp_path / "worker"
    )  # what the Functions worker brings
    result = _isolated(AZURE_PROBE, [root, root / SITE, worker_lib])
    assert result["health"] == 200 and json.loads(str(result["body"]))["status"] == "ok"
    assert "worker" in result["functions"] and "fallback" in result["functions"]  # type: ignore[operator]
    assert len(result["exporters"]) == 3  # type: ignore[arg-type]


def test_target_artefacts_hold_the_same_distributions_built_for_their_platform(built: Path) -> None:
    with (
        zipfile.ZipFile(built / "aws-lambda.zip") as target,
        zipfile.ZipFile(built / "aws-lambda-host.zip") as host,
    ):
        names = target.namelist()
        assert _distributions(names) == _distributions(host.namelist())
        assert {
            "functions/aws/http_handler.py",
            "functions/aws/worker_handler.py",
            "core/api/handler.py",
        } <= set(names)
        assert _elf_machines(target) == {ELF_MACHINE["aarch64"]}
        assert any("cpython-312-aarch64" in n for n in names)
        assert not DEV_ONLY & _distributions(names)
        assert not LOCAL_ONLY & _distributions(names)
        assert not _local_tooling(names)
        assert "aws-lambda-powertools" in _distributions(names)
        assert "opentelemetry-exporter-otlp-proto-http" in _distributions(names)
    with (
        zipfile.ZipFile(built / "azure-functionapp.zip") as target,
        zipfile.ZipFile(built / "azure-functionapp-host.zip") as host,
    ):
        names = target.namelist()
        assert {"function_app.py", "host.json", "requirements.txt"} <= set(names)
        assert _distributions(names, SITE + "/") == _distributions(host.namelist(), SITE + "/")
        assert _elf_machines(target) == {ELF_MACHINE["x86_64"]}
        assert any("cpython-312-x86_64" in n for n in names)
        assert "azure-functions" not in _distributions(names, SITE + "/")
        assert not (DEV_ONLY | LOCAL_ONLY) & _distributions(names, SITE + "/")
        assert not _local_tooling(names) and not _local_tooling(names, SITE + "/")
        # What the infra's settings need: APPLICATIONINSIGHTS_CONNECTION_STRING,
        # PADDOCK_SECRETS=keyvault, PADDOCK_OTLP_ENDPOINT.
        assert {
            "azure-monitor-opentelemetry-exporter",
            "azure-keyvault-secrets",
            "opentelemetry-exporter-otlp-proto-http",
        } <= _distributions(names, SITE + "/")
        host_json = json.loads(target.read("host.json"))
        assert host_json["extensions"]["http"]["routePrefix"] == ""


def test_azure_requirements_follow_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = (ROOT / "functions" / "azure" / "requirements.txt").read_text().splitlines()
    listed = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    extras = project["optional-dependencies"]
    assert listed == set(project["dependencies"]) | set(extras["azure"]) | set(extras["otlp"])
