"""``paddock catalog import`` on Stripe, Xero and SP-API: no body or parameter type is left
"not supported", and the SP-API Login with Amazon overlay applies from the command line."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import last_json, paddock

DATA = Path(__file__).resolve().parents[1] / "data"
SPECS = DATA / "specs"


def test_vendor_specs_import_without_not_supported_warnings(tmp_path: Path) -> None:
    specs = [
        SPECS / "stripe_spec3.json.gz",
        SPECS / "xero_accounting.yaml",
        *sorted(SPECS.glob("spapi_*.json")),
    ]
    proc = paddock("catalog", "import", *map(str, specs), home=tmp_path, timeout=180)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    warnings = [line for line in out.splitlines() if line.strip().startswith("warning:")]
    assert not [w for w in warnings if "not supported" in w or "no body" in w]
    for media in ("x-www-form-urlencoded", "multipart/form-data", "octet-stream", "cookie"):
        assert not [w for w in warnings if media in w]
    assert "690 tools from 7 spec(s)" in out
    assert "auth oauth2_refresh_token" in out  # Xero's authorization-code flow, refreshed


def test_overlay_gives_spapi_its_login_with_amazon_auth(tmp_path: Path) -> None:
    spec = SPECS / "spapi_vendorOrders.json"
    overlay = DATA / "overlays" / "spapi_lwa.yaml"
    plain = last_json(paddock("catalog", "import", str(spec), "--json", home=tmp_path).stdout)
    proc = paddock(
        "catalog", "import", str(spec), "--overlay", str(overlay), "--json", home=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    overlaid = last_json(proc.stdout)
    assert {t["auth"] for t in plain["tools"]} == {"none"}
    assert {t["auth"] for t in overlaid["tools"]} == {"oauth2_refresh_token"}


def test_overlay_with_save_is_bad_input(tmp_path: Path) -> None:
    spec, overlay = SPECS / "spapi_vendorOrders.json", DATA / "overlays" / "spapi_lwa.yaml"
    proc = paddock(
        "catalog", "import", str(spec), "--overlay", str(overlay), "--save", home=tmp_path
    )
    assert proc.returncode == 2
    assert "--overlay cannot be combined with --save" in proc.stderr
