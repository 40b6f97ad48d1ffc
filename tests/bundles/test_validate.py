"""``paddock bundle validate``: every kind of bad input is refused loudly, one line per problem
naming the file (and line where the format has lines); ``run --bundle`` never falls back to
the default policy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from paddock.cli import main
from tests.bundles.procurement import BUNDLE

Edit = Callable[[Path], None]


def _append(rel: str, text: str) -> Edit:
    def edit(root: Path) -> None:
        path = root / rel
        path.write_text(path.read_text() + text)

    return edit


def _replace(rel: str, old: str, new: str) -> Edit:
    def edit(root: Path) -> None:
        path = root / rel
        content = path.read_text()
        assert old in content, f"{old!r} not in {rel}"
        path.write_text(content.replace(old, new))

    return edit


def _write(rel: str, text: str) -> Edit:
    def edit(root: Path) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)

    return edit


def _delete(rel: str) -> Edit:
    return lambda root: (root / rel).unlink()


AGENT = """name: buyer
title: Buyer
domain: Orders parts.
home_cloud: azure
tools: [create_purchase_order, cancel_everything]
side_effects: [read, write]
"""

CASES: dict[str, tuple[Edit, str, str]] = {
    "cedar that does not parse": (
        _append("policy/orders.cedar", "\nforbid (principal, action, resource) when { ;\n"),
        "policy/orders.cedar",
        "Cedar syntax error",
    ),
    "a rule naming an unknown tool": (
        _append(
            "policy/orders.cedar",
            '\n@id("no_refunds")\n'
            'forbid (principal, action == Action::"refund_order", resource);\n',
        ),
        "policy/orders.cedar",
        "refund_order",
    ),
    "a rule naming an unknown argument": (
        _append(
            "policy/orders.cedar",
            '\n@id("big")\nforbid (principal, action == Action::"create_purchase_order", '
            "resource)\nwhen { context.args.body.discount_pct > 10 };\n",
        ),
        "policy/orders.cedar",
        "discount_pct",
    ),
    "an overlay that matches nothing": (
        _append(
            "overlays/acme.yaml",
            "  - target: $.paths['/invoices'].get\n    update:\n      x-paddock-trust: trusted\n",
        ),
        "overlays/acme.yaml:15",
        "matches nothing",
    ),
    "an overlay that is not JSONPath": (
        _replace("overlays/acme.yaml", "- target: $\n", "- target: $.paths[\n"),
        "overlays/acme.yaml:7",
        "not valid JSONPath",
    ),
    "an agent owning an unknown tool": (
        _write("agents/buyer.yaml", AGENT),
        "agents",
        "cancel_everything",
    ),
    "a missing spec": (
        _replace(
            "paddock.yaml",
            "budget:\n",
            "catalog:\n  - specs/procurement.yaml\n  - specs/invoices.yaml\nbudget:\n",
        ),
        "paddock.yaml:16",
        "specs/invoices.yaml does not exist",
    ),
    "no specs at all": (
        _delete("specs/procurement.yaml"),
        "paddock.yaml",
        "no catalog",
    ),
    "an unknown key in paddock.yaml": (
        _append("paddock.yaml", "approval_timeout: 3h\n"),
        "paddock.yaml:16",
        "unknown key",
    ),
    "paddock.yaml that is not YAML": (
        _append("paddock.yaml", "grant: [read\n"),
        "paddock.yaml",
        "not valid YAML",
    ),
    "a goal placeholder with no input": (
        _replace("paddock.yaml", "from supplier {supplier}", "by {deadline}"),
        "paddock.yaml:4",
        "{deadline}",
    ),
    "an inputs schema that is not JSON Schema": (
        _replace("paddock.yaml", "quantity: {type: integer, minimum: 1}", "quantity: {type: 7}"),
        "paddock.yaml:10",
        "not a valid JSON Schema",
    ),
    "a grant naming an unknown tool": (
        _replace(
            "paddock.yaml",
            "  side_effects: [read, write]\n",
            "  side_effects: [read, write]\n  tools: [create_purchase_order, wire_money]\n",
        ),
        "paddock.yaml:14",
        "wire_money",
    ),
    "a spec that is not OpenAPI": (
        _write("specs/procurement.yaml", "just: text\n"),
        "specs/procurement.yaml",
        "",
    ),
}


@pytest.fixture()
def bundle(tmp_path: Path) -> Path:
    root = tmp_path / "procurement"
    shutil.copytree(BUNDLE, root)
    return root


def test_the_bundle_written_from_the_docs_is_valid(
    bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", "validate", str(bundle)]) == 0
    assert "is valid" in capsys.readouterr().out


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_naming_the_file(
    case: str, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit, where, needle = CASES[case]
    edit(bundle)
    assert main(["bundle", "validate", str(bundle)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    hits = [line for line in lines if line.startswith(f"{where}:") and needle in line]
    assert hits, lines

    assert main(["bundle", "validate", str(bundle), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["problems"]

    # Running it is refused too (exit 2, one line), never a fallback to the default policy.
    code = main(["run", "--bundle", str(bundle), "--llm", "openai", "--approve", "reject"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("paddock: error: workflow bundle")


def test_every_problem_is_listed_not_only_the_first(
    bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    CASES["an overlay that matches nothing"][0](bundle)
    CASES["a rule naming an unknown tool"][0](bundle)
    CASES["a grant naming an unknown tool"][0](bundle)
    assert main(["bundle", "validate", str(bundle)]) == 1
    out = capsys.readouterr().out
    assert "overlays/acme.yaml:15" in out and "refund_order" in out and "wire_money" in out
