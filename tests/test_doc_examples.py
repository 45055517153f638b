"""Every number the README and docs show is printed by an example that this test runs.

Each ```python block of README.md and docs/*.md is followed by the ```text block of what it prints;
it runs in a subprocess in a fresh temporary directory, and its numbers must agree with the text
within the block's relative tolerance (default 1e-3, or one unit of the last printed digit;
python/plrf/testing/doc_examples.py). Blocks that only illustrate are marked skip with a reason;
long ones are marked slow (CI runs them: `-m slow`). `tools/doc-examples --write --slow`
regenerates the output blocks.
"""
import pathlib

import pytest

from plrf.testing import doc_examples as dx

REPO = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = [ex for path in dx.doc_files(REPO) for ex in dx.examples(path)]


def param(ex):
    marks = [pytest.mark.slow] if ex.slow else []
    if ex.skip:
        marks.append(pytest.mark.skip(reason=f"illustrative: {ex.skip}"))
    return pytest.param(ex, id=ex.id, marks=marks)


@pytest.mark.parametrize("example", [param(ex) for ex in EXAMPLES])
def test_doc_example_prints_what_the_text_says(example):
    got = dx.run(example)
    assert example.expected is not None, f"{example.id}: no ```text output block (tools/doc-examples --write)"
    assert dx.mismatches(example.expected, got, example.rtol) == [], example.id


def test_every_python_block_is_run_or_says_why_not():
    unaccounted = [ex.id for ex in EXAMPLES if ex.expected is None and not ex.skip]
    assert unaccounted == []
    assert all(ex.skip.strip() for ex in EXAMPLES if "skip" in ex.options), "a skip must give its reason"


def test_skips_are_few():
    skipped = [ex.id for ex in EXAMPLES if ex.skip]
    assert len(skipped) <= len(EXAMPLES) // 3, skipped


# ---- the comparison itself (planted twins: each must be rejected) ----------------------------------

def test_numbers_within_tolerance_agree():
    assert dx.mismatches("xi = 0.3393 [0.3324, 0.3467]", "xi = 0.3394 [0.3324, 0.3466]", 1e-3) == []
    assert dx.mismatches("P = 1.234e-05", "P = 1.2345e-05", 1e-3) == []


@pytest.mark.parametrize("got", [
    "xi = 0.4415 [0.3999, 0.4835]",        # the README sweep's old, wrong answer
    "xi = 0.3400 [0.3324, 0.3467]",        # one number 2e-3 off
    "eta = 0.3393 [0.3324, 0.3467]",       # a different word
    "xi = 0.3393 [0.3324]",                # a number missing
])
def test_a_changed_output_is_rejected(got):
    assert dx.mismatches("xi = 0.3393 [0.3324, 0.3467]", got, 1e-3) != []


def test_words_with_digits_are_words():
    assert dx.skeleton("float64 x1 = -1.5e-3, 200 seeds") == ["float64 x1 = #, # seeds"]
    assert dx.unit("0.3393") == pytest.approx(1e-4) and dx.unit("1.5e-05") == pytest.approx(1e-6)


def test_parse_markers_and_output_blocks(tmp_path):
    md = tmp_path / "page.md"
    md.write_text("intro\n\n<!-- doc-example: rtol=0.01, slow -->\n```python\nprint(1.0)\n```\n\n```text\n1.0\n```\n"
                  "\n<!-- doc-example: continues -->\n```python\nprint(2)\n```\n\n"
                  "<!-- doc-example: skip: needs a cluster -->\n```python\nClient()\n```\n")
    a, b, c = dx.examples(md)
    assert (a.rtol, a.slow, a.expected, b.expected, c.skip) == (0.01, True, "1.0", None, "needs a cluster")
    assert dx.run(b) == "2" and b.script().index("print(1.0)") < b.script().index("print(2)")
    dx.write(md, {a: "1.5", b: "2"})
    a, b, c = dx.examples(md)
    assert (a.expected, b.expected, c.expected) == ("1.5", "2", None)


def test_a_failing_example_reports_its_error(tmp_path):
    md = tmp_path / "page.md"
    md.write_text("```python\nraise SystemExit('boom')\n```\n\n```text\n\n```\n")
    with pytest.raises(RuntimeError, match="boom"):
        dx.run(dx.examples(md)[0])


@pytest.mark.parametrize("page", ["README.md", "docs/sweep.md"])
def test_the_sweep_example_agrees_with_theory_within_its_intervals(page):
    """The printed IsoFLOP exponents (checked against a fresh run above) hold theory's (1/3, 0.533)."""
    from plrf import theory

    shown = [ex.expected for ex in dx.examples(REPO / page) if ex.expected and "isoflop" in ex.expected]
    assert len(shown) == 1, page
    xi, xlo, xhi, eta, elo, ehi = map(float, dx.NUMBER.findall(shown[0])[:6])  # then "(over 8 W seeds)"
    o = theory.compute_optimal(1.0, 0.3, "sgd")
    assert xlo <= o.xi <= xhi and elo <= o.eta <= ehi, (shown[0], o.xi, o.eta)


def test_the_tool_checks_and_rewrites_a_page(tmp_path):
    """tools/doc-examples: a wrong output block fails, --write fixes it, and then it passes."""
    import os
    import subprocess
    import sys

    md = tmp_path / "page.md"
    md.write_text("```python\nprint(f'{2 / 3:.4f}')\n```\n\n```text\n0.6000\n```\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(pathlib.Path(dx.__file__).parents[2]),
                                                      os.environ.get("PYTHONPATH", "")]))
    tool = [sys.executable, str(REPO / "tools/doc-examples"), str(md)]
    assert subprocess.run(tool, env=env, capture_output=True).returncode == 1
    assert subprocess.run(tool + ["--write"], env=env, capture_output=True).returncode == 0
    assert "0.6667" in md.read_text() and subprocess.run(tool, env=env, capture_output=True).returncode == 0
