"""House rules on the tests themselves: no test reaches into a private name (``_x``) of ``imu``.

Every ``.py`` file under ``tests/`` is parsed with :mod:`ast`; what counts as reaching in:
importing a private name or module from ``imu`` (``from imu.angle import _toward``,
``from imu.sensors._common import place``, ``import imu._x``), and reading a private attribute of
something imported from ``imu`` (``charts._decimate`` after ``from imu import charts``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _from_imu(module: str | None, level: int) -> bool:
    return level == 0 and module is not None and (module == "imu" or module.startswith("imu."))


def _imports(node: ast.AST) -> tuple[list[str], list[str]]:
    """What an import statement takes from ``imu``: (private uses, local names it binds)."""
    hits: list[str] = []
    names: list[str] = []
    if isinstance(node, ast.ImportFrom) and _from_imu(node.module, node.level):
        module = node.module or ""
        if any(_private(part) for part in module.split(".")):
            hits.append(f"imports from the private module {module}")
        hits += [f"imports {a.name} from {module}" for a in node.names if _private(a.name)]
        names += [a.asname or a.name for a in node.names]
    elif isinstance(node, ast.Import):
        for alias in (a for a in node.names if _from_imu(a.name, 0)):
            if any(_private(part) for part in alias.name.split(".")):
                hits.append(f"imports the private module {alias.name}")
            names.append(alias.asname or alias.name.split(".")[0])
    return hits, names


def _root_name(node: ast.Attribute) -> str | None:
    root: ast.expr = node.value
    while isinstance(root, ast.Attribute):
        root = root.value
    return root.id if isinstance(root, ast.Name) else None


def private_uses(source: str, filename: str) -> list[str]:
    """``file:line: what`` for every private name of ``imu`` that ``source`` imports or reads."""
    tree = ast.parse(source, filename=filename)
    found: list[str] = []
    bound: set[str] = set()  # local names that stand for something imported from imu
    for node in ast.walk(tree):
        hits, names = _imports(node)
        found += [f"{filename}:{getattr(node, 'lineno', '?')}: {hit}" for hit in hits]
        bound.update(names)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and _root_name(node) in bound:
            found.append(f"{filename}:{node.lineno}: reads {ast.unparse(node)}")
    return found


def test_no_test_uses_a_private_name_of_imu() -> None:
    files = sorted(TESTS.rglob("*.py"))
    assert len(files) > 40  # the walk found the test tree (every layer and the helpers)
    found = [hit for f in files for hit in private_uses(f.read_text(encoding="utf-8"), str(f))]
    assert found == [], "tests must use imu's public names:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("from imu.angle import _toward, find_shank_axis", "imports _toward from imu.angle"),
        ("from imu.angle import (\n    find_shank_axis,\n    _toward as t,\n)", "imports _toward"),
        ("from imu.sensors._common import place", "private module imu.sensors._common"),
        ("import imu._internal", "private module imu._internal"),
        ("from imu import charts\ncharts._decimate(t, y, 9)", "reads charts._decimate"),
        ("import imu.angle\nimu.angle._toward(1)", "reads imu.angle._toward"),
        ("import imu.angle as a\nx = a._VqfRunner", "reads a._VqfRunner"),
        ("def f():\n    from imu.commands.record import _NoMetronome", "imports _NoMetronome"),
    ],
)
def test_the_check_catches_private_uses(source: str, what: str) -> None:
    (hit,) = private_uses(source, "t.py")
    assert hit.startswith("t.py:") and what in hit


@pytest.mark.parametrize(
    "source",
    [
        "from imu import __version__\nimport imu\nimu.__version__",
        "from imu.angle import turn_toward\nturn_toward(1)",
        "from .helpers import _local\nimport numpy as np\nnp._NoValue",  # not imu's
        "from imu.live.audio import RecordingSink\ns = RecordingSink()\ns._x = 1",  # an instance
    ],
)
def test_the_check_lets_public_uses_pass(source: str) -> None:
    assert private_uses(source, "t.py") == []
