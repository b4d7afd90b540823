"""The layers of docs/architecture.md hold: no module imports a higher layer, no package has an import cycle.

The contracts live in pyproject.toml ([tool.importlinter]); import-linter checks every import statement,
including those inside functions and under TYPE_CHECKING.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _layer_names() -> list[list[str]]:
    contract = next(c for c in CONFIG["contracts"] if c["type"] == "layers")
    return [[name.strip(" ()") for name in re.split(r"[:|]", layer)] for layer in contract["layers"]]


def test_the_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    from importlinter import configuration
    from importlinter.application.use_cases import lint_imports

    configuration.configure()
    kept = lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)
    assert kept, capsys.readouterr().out


def test_every_package_has_a_layer() -> None:
    """A new top-level module or package cannot escape the layering by being left out of the contract."""
    placed = {name for layer in _layer_names() for name in layer}
    src = ROOT / "src" / "onebar"
    present = {p.stem for p in src.glob("*.py") if p.stem != "__init__"} | {
        p.parent.name for p in src.glob("*/__init__.py")
    }
    assert present <= placed, present - placed


def test_the_layers_are_those_of_the_architecture_doc() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for layer in _layer_names():
        for name in layer:
            assert f"`{name}`" in doc, name
