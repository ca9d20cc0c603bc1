"""pyproject metadata: every imported distribution is declared, classifiers are real, URLs are present."""

from __future__ import annotations

import ast
import functools
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "otel_agents"


def _project() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


def _name(requirement: str) -> str:
    for stop in "<>=!~[; ":
        requirement = requirement.split(stop, 1)[0]
    return requirement.strip().lower().replace("_", "-")


def _imported_distributions() -> dict[str, set[str]]:
    """Distribution name -> the modules of ours importing it, for every third-party import."""
    by_module = packages_distributions()
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from opentelemetry import trace`: the namespace's module is the imported name.
                names = (
                    [f"{node.module}.{a.name}" for a in node.names]
                    if node.module == "opentelemetry"
                    else [node.module]
                )
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "otel_agents":
                    continue
                if top == "opentelemetry":  # a namespace: find the distribution of the module itself
                    dists = _opentelemetry_distribution(name)
                else:
                    dists = by_module.get(top, [top])
                for dist in dists:
                    found.setdefault(dist.lower().replace("_", "-"), set()).add(str(path.relative_to(ROOT)))
    return found


@functools.cache
def _owners() -> dict[str, str]:
    """Installed folder -> the distribution that installed files in it (opentelemetry/* only)."""
    from importlib.metadata import distributions

    owners = {}
    for dist in distributions():
        for file in dist.files or ():
            if str(file).startswith("opentelemetry/"):
                owners[str(Path(str(dist.locate_file(file))).resolve().parent)] = dist.metadata["Name"]
    return owners


def _opentelemetry_distribution(module: str) -> list[str]:
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None, module
    # A namespace package (no __init__.py) has no origin, only its folder.
    folder = (
        Path(spec.origin).parent if spec.origin else Path(next(iter(spec.submodule_search_locations or [])))
    )
    owner = _owners().get(str(folder.resolve()))
    assert owner is not None, f"no distribution ships {module}"
    return [owner]


def test_every_imported_distribution_is_declared() -> None:
    """Each third-party distribution the package imports is a dependency or in an extra (requests included)."""
    project = _project()
    declared = {_name(r) for r in project["dependencies"]}  # type: ignore[union-attr]
    for requirements in project["optional-dependencies"].values():  # type: ignore[union-attr]
        declared |= {_name(r) for r in requirements}
    missing = {d: sorted(m) for d, m in _imported_distributions().items() if d not in declared}
    assert missing == {}
    assert "requests" in {_name(r) for r in project["dependencies"]}  # type: ignore[union-attr]


def test_classifiers_urls_and_the_dev_extra() -> None:
    """Classifiers are on the official list, project URLs are given, and `dev` is the extra `make setup` installs."""
    from trove_classifiers import classifiers

    project = _project()
    unknown = [c for c in project["classifiers"] if c not in classifiers]  # type: ignore[union-attr]
    assert unknown == []
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(project["urls"])  # type: ignore[arg-type]
    assert "dev" in project["optional-dependencies"]  # type: ignore[operator]
    assert "'.[all,dev,genai-tests]'" in (ROOT / "Makefile").read_text()


def test_docs_api_lists_every_entry_point() -> None:
    """The public surface in docs/api.md names every entry-point group pyproject registers, and only those."""
    import re

    groups = {group for group in _project()["entry-points"]}  # type: ignore[union-attr]
    row = next(
        line
        for line in (ROOT / "docs" / "api.md").read_text().splitlines()
        if line.startswith("| entry points |")
    )
    assert set(re.findall(r"`(opentelemetry_[a-z_]+)`", row)) == groups


def test_the_version_is_written_once() -> None:
    """The version string appears as a literal only in api/_version.py (pyproject reads it from there)."""
    import otel_agents

    literal = f'"{otel_agents.__version__}"'
    found = [
        str(path.relative_to(ROOT))
        for folder in ("otel_agents", "bench", "examples")
        for path in (ROOT / folder).rglob("*.py")
        if literal in path.read_text()
    ]
    assert found == ["otel_agents/api/_version.py"]
    assert _project()["dynamic"] == ["version"]
