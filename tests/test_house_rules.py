"""House rules that keep the package honest: API layer without the SDK, one semconv module, small __all__."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import otel_agents

PACKAGE = Path(otel_agents.__file__).parent
API_MODULES = tuple(sorted(p.stem for p in (PACKAGE / "api").glob("*.py")))


def test_api_layer_never_imports_the_sdk() -> None:
    """Importing and using the API layer loads no opentelemetry.sdk module, integration or CLI."""
    script = (
        "import sys, otel_agents as oa\n"
        + "".join(f"import otel_agents.api.{m}\n" for m in API_MODULES)
        + "with oa.workflow('w'), oa.agent('a'), oa.tool('t'):\n    oa.route('a', target='b')\n"
        + "bad = sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk', 'otel_agents.cli',"
        + " 'otel_agents.integrations', 'otel_agents.store', 'otel_agents.sdk', 'otel_agents.autoinstrument')))\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_api_modules_import_only_the_api_statically() -> None:
    """No API-layer module has an import of the SDK, even a lazy one."""
    for name in API_MODULES:
        tree = ast.parse((PACKAGE / "api" / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("opentelemetry.sdk"), (name, node.module)
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("opentelemetry.sdk") for a in node.names), name


def test_all_is_small_and_sorted() -> None:
    """The package re-exports a small, sorted __all__, and every name in it resolves."""
    names = otel_agents.__all__
    assert names == sorted(names)
    assert len(names) <= 16
    for name in names:
        assert getattr(otel_agents, name) is not None


_KEY_LITERAL = re.compile(r"""["'](gen_ai\.[a-z_.]+|otel_agents\.[a-z_]+\.[a-z_.]+)["']""")


def test_attribute_keys_live_only_in_semconv() -> None:
    """No module but semconv spells a gen_ai.* or otel_agents.* attribute key as a string literal."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_semconv.py":
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if _KEY_LITERAL.search(line) and "getLogger" not in line and "import" not in line:
                offenders.append(f"{path.relative_to(PACKAGE)}:{lineno}: {line.strip()}")
    assert offenders == []


_DOTTED_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


def _known_keys() -> set[str]:
    """Every attribute key the upstream semconv package or our semconv module names."""
    import importlib
    import pkgutil

    from opentelemetry.semconv import attributes as stable
    from opentelemetry.semconv._incubating import attributes as incubating
    from opentelemetry.semconv._incubating.metrics import gen_ai_metrics

    from otel_agents.api import _semconv

    keys: set[str] = set()
    for package in (stable, incubating):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            keys |= {v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)}
    # semconv reads upstream's GenAI metric names on first use, so vars(_semconv) may lack them.
    keys |= {v for k, v in vars(gen_ai_metrics).items() if k.isupper() and isinstance(v, str)}
    # Scope, logger and event names are not attribute keys; the rest of our constants are.
    names = {"SCOPE_NAME", "EVENT_LOGGER", "ALERT_SCOPE", "ALERT_EVENT"}
    keys |= {v for k, v in vars(_semconv).items() if k.isupper() and k not in names and isinstance(v, str)}
    return {k for k in keys if _DOTTED_KEY.fullmatch(k)}


def test_no_module_spells_a_known_key_as_a_literal() -> None:
    """No module but semconv has a string literal equal to an upstream or otel_agents attribute key."""
    keys = _known_keys()
    # The redactor's pseudo-key for an event's name (not the attribute, which it never writes).
    allowed = {("sdk/processors/_rewrite.py", "event.name")}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_semconv.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in keys:
                if (str(path.relative_to(PACKAGE)), node.value) in allowed:
                    continue
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
    assert offenders == []


def test_every_module_has_a_one_line_docstring() -> None:
    """Each module opens with a docstring whose first line says its responsibility."""
    for path in PACKAGE.rglob("*.py"):
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc, path
        assert doc.splitlines()[0].endswith("."), path


def _documented_surface() -> dict[str, set[str]]:
    doc = (PACKAGE.parent / "docs" / "api.md").read_text()
    section = doc.split("## Public surface", 1)[1]
    surface: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`otel_agents"):
            surface[cells[0].strip("`")] = set(re.findall(r"`([A-Za-z_]+)`", cells[1]))
    return surface


def test_public_surface_is_what_docs_api_lists() -> None:
    """Each module docs/api.md lists exports exactly the names it lists, and they all resolve."""
    import importlib

    surface = _documented_surface()
    assert "otel_agents" in surface and "otel_agents.integrations.fastapi" in surface
    for module_name, names in surface.items():
        module = importlib.import_module(module_name)
        assert set(module.__all__) == names, module_name
        for name in names:
            assert getattr(module, name) is not None, (module_name, name)


def test_every_other_module_reads_as_private() -> None:
    """A module that docs/api.md does not list has a leading underscore in its dotted path, and a
    package it does not list has no __all__."""
    public = set(_documented_surface())
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            # An unlisted package is a folder of private modules: it re-exports nothing as public.
            package = ".".join(parts[:-1])
            tree = ast.parse(path.read_text())
            exports = any(
                isinstance(node, ast.Assign)
                and any(getattr(t, "id", None) == "__all__" for t in node.targets)
                for node in tree.body
            )
            if exports and package not in public and not any(p.startswith("_") for p in parts[1:-1]):
                offenders.append(package)
            continue
        if parts[-1] == "__main__":
            continue
        dotted = ".".join(parts)
        if dotted not in public and not any(p.startswith("_") for p in parts[1:]):
            offenders.append(dotted)
    assert offenders == []


def test_the_architecture_drawing_shows_every_package() -> None:
    """Each package under otel_agents/ is drawn on a floor in docs/architecture.md."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    drawing = doc.split("```", 2)[1]
    packages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert packages
    assert [p for p in packages if f"{p}/" not in drawing] == []
