"""Our modules import one another without a cycle, and the configuration is a leaf others depend on.

grimp reads the imports from the source, those inside functions included (a lazy import is still a
dependency); imports under `if TYPE_CHECKING:` are left out, as they never run.
"""

from __future__ import annotations

import copy

import grimp
import pytest

PACKAGES = ("pipelines", "orchestration", "sandbox")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.find_modules_directly_imported_by(successor)))))
                    break
                if successor in on_stack:
                    low[module] = min(low[module], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _explain(graph: grimp.ImportGraph, component: list[str]) -> str:
    first, members = component[0], set(component)
    lines = []
    for importer in component:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            lines += [f"  {importer} -> {imported} (line {d['line_number']}: {d['line_contents']})"
                      for d in graph.get_import_details(importer=importer, imported=imported)]
    return f"cycle through {first} and {len(component) - 1} more:\n" + "\n".join(lines)


def test_no_import_cycles(graph):
    assert graph.modules >= {"pipelines.config", "pipelines.exceptions", "orchestration.schedule"}
    found = cycles(graph)
    assert not found, "\n".join(_explain(graph, c) for c in found)


def test_cycle_finder_finds_a_planted_cycle(graph):
    """The check above can fail: a lazy import from the warehouse back to the settings would close a circle."""
    planted = copy.deepcopy(graph)
    planted.add_import(importer="pipelines.warehouse.location", imported="pipelines.config")
    assert any({"pipelines.config", "pipelines.warehouse.location"} <= set(c) for c in cycles(planted))


def test_config_error_lives_in_a_leaf(graph):
    assert graph.find_modules_directly_imported_by("pipelines.exceptions") == set()


@pytest.mark.parametrize("package", ["pipelines.warehouse", "pipelines.oauth"])
def test_warehouse_and_oauth_never_reach_the_settings(graph, package):
    """They are handed values (a URL, a path, a client id) instead of reading the settings."""
    assert not graph.chain_exists(importer=package, imported="pipelines.config", as_packages=True)
