"""The house: every package and top-level module imports only what lies below it, and nothing forms a cycle.

import-linter checks the packages' layers (`make lint`), but takes no single-file module as a
root; this test places those too (app, services, settings, errors, bounds, telemetry) and counts every
import, those under TYPE_CHECKING and inside functions included.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.server import ROOT

# Top to bottom; a layer may import any layer below it, nothing in its own layer or above.
HOUSE: list[set[str]] = [
    {"cli"},  # the command line: HTTP, but for `faceid serve` and the database commands
    {"app"},  # the ASGI application and its lifespan
    {"web"},  # the HTTP and WebSocket edge
    {"schema"},  # the GraphQL types and roots; fields' scopes, costs and audits
    {"resolvers"},  # checks, and calls into what follows; returns domain values
    {"services"},  # the composition root: builds the long-lived objects from the settings
    {"settings"},  # the environment
    {"auth", "search"},  # keys, scopes, rates; 1:K search and its thresholds
    {"models", "ml"},  # persistence; detection and embedding
    {"weights"},  # the weights' manifest and checksums
    {"errors", "bounds", "telemetry"},  # the error vocabulary, the API's fixed bounds, the metrics registry
]
OURS = set().union(*HOUSE)
LEVEL = {name: level for level, names in enumerate(HOUSE) for name in names}


def _node(path: Path) -> str:
    relative = path.relative_to(ROOT)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imports() -> dict[str, dict[str, list[str]]]:
    """node -> imported node -> the modules that import it (every import statement of our code)."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in ROOT.rglob("*.py"):
        if _node(path) not in OURS or "node_modules" in path.parts or ".venv" in path.parts:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for statement in ast.walk(tree):
            if isinstance(statement, ast.Import):
                names = [alias.name for alias in statement.names]
            elif isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
                names = [statement.module]
            else:
                continue
            for name in names:
                target = name.split(".")[0]
                if target in OURS and target != _node(path):
                    found[_node(path)][target].append(str(path.relative_to(ROOT)))
    return found


IMPORTS = _imports()


@pytest.mark.parametrize("node", sorted(OURS))
def test_imports_run_downward(node: str) -> None:
    upward = {target: modules for target, modules in IMPORTS[node].items() if LEVEL[target] <= LEVEL[node]}
    assert not upward, f"{node} imports what is not below it: {dict(upward)}"


def test_no_cycle_between_packages() -> None:
    # Implied by the downward rule; checked on its own so that a change to HOUSE cannot hide one.
    graph = {node: set(targets) for node, targets in IMPORTS.items()}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in visiting:
            cycle = [*visiting[visiting.index(node) :], node]
            pytest.fail("a package cycle: " + " -> ".join(cycle))
        if node in done:
            return
        visiting.append(node)
        for target in sorted(graph.get(node, ())):
            visit(target)
        visiting.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)


def test_every_package_has_its_place() -> None:
    ours = {_node(path) for path in ROOT.glob("*/__init__.py")} | {path.stem for path in ROOT.glob("*.py")}
    placed = ours & OURS
    unplaced = ours - placed - {"tests", "bench", "devdata", "conformance", "codegen", "console", "graphiql"}
    assert not unplaced, f"not in the house (tests/test_layers.py, README): {sorted(unplaced)}"
