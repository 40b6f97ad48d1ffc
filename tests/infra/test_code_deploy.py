"""`pulumi up` deploys the code: the Lambdas run the uploaded S3 object, the Function App the
uploaded blob; keys follow the package's bytes; workflow bundles ship in both packages."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from .harness import Synth, synth

DYNAMIC = "pulumi-python:dynamic:Resource"


def _zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), text)
    return path


def _bundle(root: Path, folder: str, name: str | None) -> Path:
    path = root / folder
    (path / "specs").mkdir(parents=True)
    manifest = f"name: {name}\n" if name is not None else "title: no name\n"
    (path / "paddock.yaml").write_text(manifest + "goal: g\n")
    (path / "specs" / "orders.json").write_text('{"openapi": "3.0.0"}')
    (path / "__pycache__").mkdir()
    (path / "__pycache__" / "x.pyc").write_bytes(b"\0")
    return path


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Synth, Path, Path]:
    root = tmp_path_factory.mktemp("deploy")
    aws_zip = _zip(root / "aws-lambda.zip", {"functions/aws/http_handler.py": "x = 1\n"})
    azure_zip = _zip(root / "azure-functionapp.zip", {"function_app.py": "x = 2\n"})
    current = _bundle(root, "supply-chain", "supply-chain")
    kept = _bundle(root, "kept/supply-chain.v1", "supply-chain")  # an older version, kept
    unnamed = _bundle(root, "shipment_delay", None)  # no name: the folder's
    s = synth(
        {
            "awsLambdaPackage": str(aws_zip),
            "azureFunctionPackage": str(azure_zip),
            "workflows": [str(current), str(kept), str(unnamed)],
        }
    )
    return s, aws_zip, azure_zip


def _settings(s: Synth) -> dict[str, str]:
    app = s.one("azure-native:web:WebApp")
    return {p["name"]: p["value"] for p in app.plain("siteConfig")["appSettings"]}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_lambdas_run_the_uploaded_object(stack, lambda_package: Path) -> None:
    s = stack("aws")
    obj = s.one("aws:s3/bucketObjectv2:BucketObjectv2")
    bucket = s.one("aws:s3/bucket:Bucket", "-code")
    assert obj.plain("bucket") == bucket.id
    assert obj.plain("key") == f"lambda/aws-lambda-{_sha(lambda_package)[:16]}.zip"
    assert obj.inputs["source"].path == str(lambda_package)
    digest = base64.b64encode(bytes.fromhex(_sha(lambda_package))).decode()
    for fn in s.of_type("aws:lambda/function:Function"):
        assert fn.plain("s3Bucket") == bucket.id
        assert fn.plain("s3Key") == obj.plain("key")
        assert fn.plain("sourceCodeHash") == digest
        assert "code" not in fn.inputs  # no inline upload (50 MB limit)


def test_code_bucket_is_private_and_tls_only(stack) -> None:
    s = stack("aws")
    names = {r.name for r in s.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")}
    assert any("-code" in n for n in names)
    policy = next(p for p in s.of_type("aws:s3/bucketPolicy:BucketPolicy") if "-code" in p.name)
    assert "aws:SecureTransport" in policy.plain("policy")


def test_flex_app_deploys_the_uploaded_blob_with_onedeploy(stack, lambda_package: Path) -> None:
    s = stack("azure")
    (upload,) = s.of_type(DYNAMIC)
    url = upload.plain("url")
    assert url.endswith("/deployments/released-package.zip")
    assert upload.plain("sha256") == _sha(lambda_package)
    deploy = s.one("azure-native:resources:Resource", "onedeploy")
    assert deploy.plain("resourceName") == "onedeploy"
    assert deploy.plain("parentResourcePath").startswith("sites/")
    assert deploy.plain("properties") == {"packageUri": url, "remoteBuild": False}
    storage = s.one("azure-native:web:WebApp").plain("functionAppConfig")["deployment"]
    assert storage["storage"]["authentication"] == {"type": "SystemAssignedIdentity"}
    assert "WEBSITE_RUN_FROM_PACKAGE" not in _settings(s)


def test_consumption_app_runs_from_the_content_named_blob(stack, lambda_package: Path) -> None:
    s = stack("azure", azurePlan="consumption")
    (upload,) = s.of_type(DYNAMIC)
    url = upload.plain("url")
    assert url.endswith(f"/deployments/azure-functionapp-{_sha(lambda_package)[:16]}.zip")
    assert _settings(s)["WEBSITE_RUN_FROM_PACKAGE"] == url
    assert _settings(s)["WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID"] == "SystemAssigned"
    assert not s.of_type("azure-native:resources:Resource")


def test_the_deployer_may_write_only_the_deployments_container(stack) -> None:
    s = stack("azure")
    grant = s.one("azure-native:authorization:RoleAssignment", "deployer")
    assert grant.plain("principalId") == "deployer"
    container = s.one("azure-native:storage:BlobContainer", "deployments")
    assert grant.plain("scope") == container.id
    assert grant.plain("roleDefinitionId").endswith("ba92f5b4-2d11-453d-a403-e96b0029c9fe")


def test_upload_changes_exactly_when_the_bytes_change(tmp_path: Path) -> None:
    from paddock_infra._blob_upload import BlobUploadProvider
    from paddock_infra.packaging import Package, compose

    a = _zip(tmp_path / "a.zip", {"f.py": "1"})
    b = _zip(tmp_path / "b.zip", {"f.py": "1"})
    c = _zip(tmp_path / "c.zip", {"f.py": "2"})
    pa, pb, pc = (compose(p, (), tmp_path / "out.zip") for p in (a, b, c))
    assert pa.key("x") == pb.key("x") != pc.key("x")
    provider = BlobUploadProvider()
    old = {"url": "u/released-package.zip", "sha256": pa.sha256, "path": str(a)}
    same = provider.diff("id", old, {**old, "sha256": pb.sha256, "path": str(b)})
    assert not same.changes
    changed = provider.diff("id", old, {**old, "sha256": pc.sha256})
    assert changed.changes and not changed.replaces
    moved = provider.diff("id", old, {**old, "url": "u/other.zip"})
    assert moved.replaces == ["url"]
    assert isinstance(pa, Package)


def test_bundles_ship_in_both_packages_under_workflows(shipped) -> None:
    s, _, _ = shipped
    obj = s.one("aws:s3/bucketObjectv2:BucketObjectv2")
    (upload,) = s.of_type(DYNAMIC)
    for path in (obj.inputs["source"].path, upload.plain("path")):
        names = zipfile.ZipFile(path).namelist()
        # Each folder keeps its name: the runtime takes the folder named after a workflow as
        # its current version and keeps the others for runs that started on them.
        assert "workflows/supply-chain/paddock.yaml" in names
        assert "workflows/supply-chain/specs/orders.json" in names
        assert "workflows/supply-chain.v1/paddock.yaml" in names
        assert "workflows/shipment_delay/specs/orders.json" in names
        assert not [n for n in names if "__pycache__" in n]
    assert s.outputs["workflows"] == ["supply-chain", "shipment_delay"]


def test_runtime_is_told_where_the_bundles_are(shipped, stack) -> None:
    s, _, _ = shipped
    for fn in s.of_type("aws:lambda/function:Function"):
        assert fn.plain("environment")["variables"]["PADDOCK_WORKFLOWS_DIR"] == (
            "/var/task/workflows"
        )
    assert _settings(s)["PADDOCK_WORKFLOWS_DIR"] == "/home/site/wwwroot/workflows"
    plain = stack("both")
    assert "workflows" not in plain.outputs
    assert "PADDOCK_WORKFLOWS_DIR" not in _settings(plain)


def test_composition_is_reproducible_and_content_addressed(tmp_path: Path) -> None:
    from paddock_infra.packaging import compose, load_bundles

    base = _zip(tmp_path / "base.zip", {"core/x.py": "x"})
    _bundle(tmp_path, "wf", "orders")
    bundles = load_bundles(("wf",), tmp_path)
    first = compose(base, bundles, tmp_path / "one" / "p.zip")
    second = compose(base, bundles, tmp_path / "two" / "p.zip")
    assert first.sha256 == second.sha256 and first.key("p") == second.key("p")
    (tmp_path / "wf" / "specs" / "orders.json").write_text('{"openapi": "3.1.0"}')
    third = compose(base, bundles, tmp_path / "three" / "p.zip")
    assert third.key("p") != first.key("p")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"missing": None}, "is not a folder"),
        ({"plain": "no-manifest"}, "is not a workflow bundle"),
        ({"bad name": "x"}, "folder's name must be"),
        ({"x/same": "a", "y/same": "b"}, "two folders are named 'same'"),
    ],
)
def test_bad_workflow_folders_are_refused_naming_the_folder(
    tmp_path: Path, setup: dict[str, str | None], message: str
) -> None:
    from paddock_infra.config import InfraConfigError
    from paddock_infra.packaging import load_bundles

    for folder, name in setup.items():
        if folder != "missing":
            _bundle(tmp_path, folder, name)
        if name == "no-manifest":
            (tmp_path / folder / "paddock.yaml").unlink()
    with pytest.raises(InfraConfigError, match=message):
        load_bundles(tuple(setup), tmp_path)


def test_missing_function_package_fails_with_a_hint(tmp_path: Path, lambda_package) -> None:
    from paddock_infra.config import InfraConfigError

    with pytest.raises(InfraConfigError, match="paddock:azureFunctionPackage"):
        synth(
            {"targets": "azure", "azureFunctionPackage": str(tmp_path / "none.zip")},
            package=lambda_package,
        )


def test_upload_provider_loads_where_pulumi_runs_it() -> None:
    # Pulumi pickles a dynamic provider into the state and unpickles it in a provider process
    # started in the project folder (infra/): the reference must resolve there, with only the
    # venv's packages.
    import subprocess
    import sys

    from paddock_infra._blob_upload import BlobUploadProvider
    from pulumi.dynamic.dynamic import serialize_provider

    from .harness import INFRA

    blob = serialize_provider(BlobUploadProvider())
    probe = (
        "import base64, sys, dill\n"
        "p = dill.loads(base64.b64decode(sys.stdin.read()))\n"
        "print(type(p).__module__, type(p).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        input=blob,
        capture_output=True,
        text=True,
        cwd=INFRA,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["paddock_infra._blob_upload", "BlobUploadProvider"]


def test_the_runtime_loads_the_bundles_as_shipped(tmp_path: Path) -> None:
    # The package layout and PADDOCK_WORKFLOWS_DIR are what core's loader reads at cold start.
    from paddock_infra.packaging import WORKFLOWS_FOLDER, compose, load_bundles

    from core.bundles.deployed import load_workflows

    from .harness import INFRA

    root = INFRA.parent
    folders = ("examples/supply_chain", "examples/shipment_delay", "tests/data/bundles/procurement")
    bundles = load_bundles(folders, root)
    base = _zip(tmp_path / "base.zip", {"core/x.py": "x"})
    package = compose(base, bundles, tmp_path / "out" / "aws-lambda.zip")
    unpacked = tmp_path / "task"
    zipfile.ZipFile(package.path).extractall(unpacked)
    workflows = load_workflows(unpacked / WORKFLOWS_FOLDER)
    assert sorted(workflows.names()) == sorted(b.name for b in bundles)
    assert sorted(workflows.names()) == ["procurement", "shipment-delay", "supply-chain"]
