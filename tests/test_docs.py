"""The math ships with the code: docs/theory.md keeps sections 1..14, every section reference in
the sources names one of them, tools/spec-refs rewrites the old form, and the README points at
docs/theory.md rather than at a file outside the repository."""
import importlib.machinery
import importlib.util
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
SOURCES = ("python", "cpp/include", "cpp/bind", "tests", "bench", "docs")


SECTIONS = 14  # 13: matrix-valued PLRF, 14: coordinate-wise optimizers


def test_theory_md_numbers_its_sections_1_to_14():
    heads = re.findall(r"^## (\d+)\. ", (REPO / "docs/theory.md").read_text(), flags=re.M)
    assert [int(h) for h in heads] == list(range(1, SECTIONS + 1))


def section_refs():
    pattern = re.compile(r"(?:\bSPEC(?: sections?)?|docs/theory\.md §) ?(\d+)(?:\s*-\s*(\d+))?")
    for top in SOURCES:
        for path in (REPO / top).rglob("*"):
            if path.is_file() and path.suffix in {".py", ".hpp", ".cpp", ".md"}:
                for m in pattern.finditer(path.read_text(encoding="utf-8")):
                    yield path.relative_to(REPO), [int(g) for g in m.groups() if g]


def test_every_section_reference_exists():
    bad = [(str(p), n) for p, ns in section_refs() for n in ns if not 1 <= n <= SECTIONS]
    assert bad == []


def spec_refs_tool():
    loader = importlib.machinery.SourceFileLoader("spec_refs", str(REPO / "tools/spec-refs"))
    spec = importlib.util.spec_from_loader("spec_refs", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.mark.parametrize("old,new", [
    ("SPEC 4 recursion", "docs/theory.md §4 recursion"),
    ("(SPEC section 6)", "(docs/theory.md §6)"),
    ("SPEC sections 4-5", "docs/theory.md §4-5"),
    ("SPEC 10's nodes; SPEC 8,", "docs/theory.md §10's nodes; docs/theory.md §8,"),
    ("see SPEC.md", "see docs/theory.md"),
    ("the SPEC value", "the SPEC value"),  # left for a human, and listed by the tool
    ("SPECTRUM_SOURCES", "SPECTRUM_SOURCES"),
])
def test_spec_refs_rewrites_references_only(old, new):
    assert spec_refs_tool().rewrite(old) == new


def test_readme_points_at_the_shipped_theory():
    text = (REPO / "README.md").read_text()
    assert "docs/theory.md" in text and "SPEC" + ".md" not in text and "shared folder" not in text
    first = text.split("```bash")[1].split("```")[0]
    lines = [line.split("#")[0].strip() for line in first.strip().splitlines()]
    assert lines == ['pip install ".[test]"', "python -m plrf demo", "python -m pytest"]  # install once, then run


def test_ci_ends_with_the_readme_test_command():
    first = (REPO / "README.md").read_text().split("```bash")[1].split("```")[0]
    readme = [line.split("#")[0].strip() for line in first.splitlines() if "pytest" in line][0]
    assert (REPO / ".ci/run").read_text().strip().splitlines()[-1] == readme
