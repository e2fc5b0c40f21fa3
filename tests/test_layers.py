"""The leaves of the house: the error vocabulary and the fixed bounds import nothing of ours.

(import-linter checks the packages, `make lint`; these two are modules, which it cannot take as roots.)
"""

from __future__ import annotations

import ast

import pytest

from tests.server import ROOT

OURS = {
    "app",
    "settings",
    "services",
    "errors",
    "bounds",
    "web",
    "schema",
    "resolvers",
    "auth",
    "search",
    "models",
    "ml",
    "weights",
    "cli",
}


@pytest.mark.parametrize("leaf", ["errors.py", "bounds.py"])
def test_a_leaf_imports_nothing_of_ours(leaf: str) -> None:
    tree = ast.parse((ROOT / leaf).read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not imported & OURS, f"{leaf} imports {sorted(imported & OURS)}"
