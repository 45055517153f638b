"""The package's own shape: relative imports inside it, one version, the typed marker, and a CLI
that lists every subcommand."""
import ast
import pathlib
import subprocess
import sys

import plrf

ROOT = pathlib.Path(plrf.__file__).resolve().parent


def absolute_plrf_imports(source):
    """(line, text) of every `import plrf...` / `from plrf... import` in a module's code (not its docstrings)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "plrf" for a in node.names):
            out.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "plrf":
            out.append(node.lineno)
    return out


def test_no_absolute_plrf_import_inside_the_package():
    found = {str(p.relative_to(ROOT)): absolute_plrf_imports(p.read_text()) for p in ROOT.rglob("*.py")}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_check_sees_an_absolute_import():
    assert absolute_plrf_imports('"""from plrf import x"""\nimport numpy\nfrom plrf.fit import power_law\n') == [3]


def test_typed_package_and_one_version():
    """py.typed and the stub ship with the package; an installed plrf reports _version.py's version."""
    from importlib.metadata import PackageNotFoundError, distribution

    assert (ROOT / "py.typed").is_file() and (ROOT / "_core.pyi").is_file()
    try:
        dist = distribution("plrf")
    except PackageNotFoundError:  # the source tree (PYTHONPATH=python), not an installed copy
        return
    if pathlib.Path(dist.locate_file("plrf")).resolve() == ROOT:
        assert dist.version == plrf.__version__


def test_help_lists_every_subcommand():
    out = subprocess.run([sys.executable, "-m", "plrf", "--help"], capture_output=True, text=True, check=True).stdout
    for cmd in ("demo", "frontier", "bench"):
        assert cmd in out


def test_the_import_graph_has_no_cycle():
    """tools/import-graph over the package: modules import one way (theory is a package so that its
    shape can build on its laws; the gradient-model checks live with the transforms, not in simulation)."""
    root = pathlib.Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, str(root / "tools/import-graph"), str(root / "python")],
                         capture_output=True, text=True, check=True).stdout
    assert "cycles: none" in out, out
