"""The package's architecture holds: dependencies point one way, and the code lints clean."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "lisse"
# What each layer may import from the package (besides itself)
ALLOWED = {
    "core": set(),
    "cell": {"core"},
    "plating": {"core"},
    "workflow": {"core", "cell", "plating"},
}
SOLVERS = ("cell/electrochemistry", "cell/mechanics", "plating/mechanics")


def lisse_imports(path: Path) -> set[str]:
    """The ``lisse.<layer>`` modules a file imports (at any depth, lazily imported ones too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.split(".")[0] == "lisse"}


def modules(under: str) -> list[Path]:
    return sorted((PACKAGE / under).rglob("*.py")) if (PACKAGE / under).is_dir() else [PACKAGE / under]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_only_below_them(layer):
    wrong = {}
    for path in modules(layer):
        layers = {name.split(".")[1] for name in lisse_imports(path) if name.count(".") >= 1}
        if layers - ALLOWED[layer] - {layer}:
            wrong[str(path.relative_to(PACKAGE))] = sorted(layers - ALLOWED[layer] - {layer})
    assert not wrong, f"imports against the layering (allowed for {layer}: {sorted(ALLOWED[layer])}): {wrong}"


def test_every_module_belongs_to_a_layer():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert not loose, f"modules outside core/, cell/, plating/, workflow/: {loose}"


def test_solvers_do_not_import_the_command_line():
    offenders = [str(path.relative_to(PACKAGE)) for under in SOLVERS for path in modules(under)
                 if any(name.startswith("lisse.workflow") for name in lisse_imports(path))]
    assert not offenders


def test_code_is_lint_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed (it is in the test extra: pip install -e '.[test]')")
    run = subprocess.run([ruff, "check", "src", "scripts", "tests", "benchmarks"], cwd=ROOT, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_core_type_checks():
    """mypy on the shared core (configured in pyproject.toml)."""
    run = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    if "No module named mypy" in run.stderr:
        pytest.fail("mypy is not installed (it is in the test extra: pip install -e '.[test]')")
    assert run.returncode == 0, run.stdout + run.stderr
