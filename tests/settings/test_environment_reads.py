"""``core.settings`` is the only module in ``core/`` that reads the environment.

Every other module gets typed settings from its caller. Read from the syntax tree: ``os.environ``
and ``os.getenv`` anywhere, and a mapping looked up by a variable's name (``env.get("PADDOCK_X")``,
``env["OPENAI_API_KEY"]``, a constant holding such a name, ``"AWS_REGION" in env``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import core

CORE = Path(core.__file__).parent
SETTINGS = CORE / "settings"
VARIABLE = re.compile(r"^(PADDOCK|OPENAI|AZURE_OPENAI|AWS|OTEL|APPLICATIONINSIGHTS)_[A-Z0-9_]+$")
OS_READS = {"environ", "environb", "getenv", "getenvb"}
LOOKUPS = {"get", "pop", "setdefault", "__getitem__", "__contains__"}
MAPPINGS = {"env", "environ", "environment"}


def _names_of_variables(tree: ast.Module) -> set[str]:
    """Module-level constants that hold a variable's name (``TOOL_RPM = "PADDOCK_TOOL_RPM"``)."""
    found = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and _is_variable(node.value, set()):
            found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return found


def _is_variable(node: ast.AST, constants: set[str]) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(VARIABLE.match(node.value))
    return isinstance(node, ast.Name) and node.id in constants


def _lookup(call: ast.Call, constants: set[str]) -> str | None:
    """``m.get("PADDOCK_X")``, or a helper handed the environment and a name (``_get(env, X)``)."""
    func = call.func
    lookup = isinstance(func, ast.Attribute) and func.attr in LOOKUPS
    if lookup and call.args and _is_variable(call.args[0], constants):
        return f".{func.attr}({ast.unparse(call.args[0])})"
    named = [a for a in call.args if _is_variable(a, constants)]
    if named and any(isinstance(a, ast.Name) and a.id in MAPPINGS for a in call.args):
        return ast.unparse(call)
    return None


def environment_reads(source: str) -> list[str]:
    """Where ``source`` reads the environment, as ``line: what``."""
    tree = ast.parse(source)
    constants = _names_of_variables(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        what = None
        if isinstance(node, ast.Attribute) and node.attr in OS_READS:
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                what = f"os.{node.attr}"
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(alias.name in OS_READS for alias in node.names):
                what = "from os import " + ", ".join(a.name for a in node.names)
        elif isinstance(node, ast.Call):
            what = _lookup(node, constants)
        elif isinstance(node, ast.Subscript) and _is_variable(node.slice, constants):
            what = f"[{ast.unparse(node.slice)}]"
        elif (
            isinstance(node, ast.Compare)
            and _is_variable(node.left, constants)
            and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
        ):
            what = f"{ast.unparse(node.left)} in ..."
        if what is not None:
            found.append((getattr(node, "lineno", 0), what))
    return [f"{line}: {what}" for line, what in sorted(found)]


def test_no_module_of_core_but_the_settings_reads_the_environment() -> None:
    offenders = {}
    for path in sorted(CORE.rglob("*.py")):
        if SETTINGS in path.parents:
            continue
        reads = environment_reads(path.read_text())
        if reads:
            offenders[str(path.relative_to(CORE.parent))] = reads
    assert offenders == {}, "read it in core/settings and pass the value in: " + repr(offenders)


def test_the_settings_do_read_the_environment() -> None:
    # The check above would pass on a tree it cannot see into: it must see the one reader.
    reads = {
        path.name: [read.split(": ", 1)[1] for read in environment_reads(path.read_text())]
        for path in SETTINGS.glob("*.py")
    }
    assert {name: found for name, found in reads.items() if found} == {"_base.py": ["os.environ"]}


def test_the_check_finds_each_kind_of_read() -> None:
    reads = environment_reads(
        "import os\n"
        "from os import getenv\n"
        "RPM = 'PADDOCK_TOOL_RPM'\n"
        "a = os.environ.get('X')\n"
        "b = os.getenv('X')\n"
        "c = env.get('PADDOCK_STORE', '')\n"
        "d = env['OPENAI_API_KEY']\n"
        "e = source.get(RPM)\n"
        "f = 'AWS_REGION' in env\n"
        "g = _get(env, 'OPENAI_API_KEY')\n"
    )
    assert reads == [
        "2: from os import getenv",
        "4: os.environ",
        "5: os.getenv",
        "6: .get('PADDOCK_STORE')",
        "7: ['OPENAI_API_KEY']",
        "8: .get(RPM)",
        "9: 'AWS_REGION' in ...",
        "10: _get(env, 'OPENAI_API_KEY')",
    ]


def test_the_check_leaves_names_in_messages_and_other_lookups_alone() -> None:
    assert not environment_reads(
        "raise ConfigError('PADDOCK_STORE=table needs PADDOCK_TABLE_ENDPOINT')\n"
        "x = headers.get('authorization')\n"
        "y = settings.storage.store\n"
        "'''docs name OPENAI_API_KEY'''\n"
    )
