"""Run the python examples of README.md and docs/*.md and compare what they print with the text.

The convention (what a reader sees): a ```python block is followed by a ```text block holding the
output it prints. The runner executes the block in a fresh temporary directory, in a subprocess
with a time limit, and compares its stdout with the ```text block: the words must be equal (after
collapsing spaces), and every number must agree within the block's relative tolerance rtol (default
1e-3) or one unit of its last printed digit, whichever is larger. An HTML comment right above the
```python fence (invisible when rendered) sets the block's options, comma-separated:

    <!-- doc-example: rtol=0.01, slow, timeout=300 -->
    <!-- doc-example: continues -->          runs the previous example of the page first (its names)
    <!-- doc-example: skip: <why> -->        illustrative only (placeholders, a cluster, ...)

A ```python block with neither an output block nor a skip is an error. `tools/doc-examples --write`
rewrites the output blocks (adding missing ones) from a fresh run.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*doc-example:\s*(.*?)\s*-->\s*$")
# A number not glued to a word ("float64", "x1" stay words): optional sign, digits, exponent.
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")
SEPARATOR = "----- doc-example output starts here -----"
DEFAULT_RTOL = 1e-3
DEFAULT_TIMEOUT = 600.0  # a guard against a hang, not a speed check (the slow blocks take ~1 min when loaded)


@dataclasses.dataclass(eq=False)  # hashed by identity: a key of write()'s results
class Example:
    path: pathlib.Path
    line: int                  # 1-based line of the ```python fence
    code: str
    expected: str | None       # the ```text block, None when there is none
    out_span: tuple[int, int] | None  # 0-based line range [start, end) of the output block's body
    options: dict
    previous: "Example | None" = None  # the page's example before this one (for "continues")

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def skip(self) -> str | None:
        return self.options.get("skip")

    @property
    def slow(self) -> bool:
        return "slow" in self.options

    @property
    def rtol(self) -> float:
        return float(self.options.get("rtol", DEFAULT_RTOL))

    @property
    def timeout(self) -> float:
        return float(self.options.get("timeout", DEFAULT_TIMEOUT))

    def script(self) -> str:
        """The code to run: the chain of examples it continues, a separator, then its own code."""
        chain, e = [], self
        while "continues" in e.options and e.previous is not None:
            e = e.previous
            chain.append(e.code)
        return "\n".join(reversed(chain)) + f"\nprint({SEPARATOR!r}, flush=True)\n" + self.code


def parse_options(text: str) -> dict:
    """'rtol=0.01, slow' -> {'rtol': '0.01', 'slow': True}; 'skip: why' -> {'skip': 'why'}."""
    if text.startswith("skip"):
        return {"skip": text[4:].lstrip(": ").strip()}
    options = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, _, value = item.partition("=")
        options[key.strip()] = value.strip() if value else True
    return options


def blocks(lines):
    """(language, fence line, body start, body end) of every fenced block, 0-based."""
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m:
            j = i + 1
            while j < len(lines) and lines[j].rstrip() != "```":
                j += 1
            out.append((m.group(1), i, i + 1, j))
            i = j
        i += 1
    return out


def examples(path) -> list[Example]:
    """Every ```python block of one markdown file, with its options and output block."""
    path = pathlib.Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    found, bl = [], blocks(lines)
    for k, (lang, fence, start, end) in enumerate(bl):
        if lang != "python":
            continue
        above = fence - 1
        while above >= 0 and not lines[above].strip():
            above -= 1
        m = MARKER.match(lines[above]) if above >= 0 else None
        options = parse_options(m.group(1)) if m else {}
        expected = span = None
        if k + 1 < len(bl) and bl[k + 1][0] == "text" and not any(s.strip() for s in lines[end + 1:bl[k + 1][1]]):
            span = (bl[k + 1][2], bl[k + 1][3])
            expected = "\n".join(lines[span[0]:span[1]])
        found.append(Example(path, fence + 1, "\n".join(lines[start:end]), expected, span, options,
                             previous=found[-1] if found else None))
    return found


def doc_files(repo) -> list[pathlib.Path]:
    repo = pathlib.Path(repo)
    return [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]


def run(example: Example) -> str:
    """The example's stdout (after the chain it continues), run in a fresh temporary directory."""
    env = dict(os.environ, MPLBACKEND="Agg")
    # the same plrf as this one (plrf/testing/doc_examples.py), even when it came from a relative PYTHONPATH
    root = str(pathlib.Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    with tempfile.TemporaryDirectory(prefix="plrf-doc-example-") as tmp:
        proc = subprocess.run([sys.executable, "-c", example.script()], cwd=tmp, env=env, capture_output=True,
                              text=True, timeout=example.timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{example.id} exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc.stdout.split(SEPARATOR + "\n", 1)[-1].rstrip()


def skeleton(text: str) -> list[str]:
    """The words of the output: numbers replaced by '#', spaces collapsed, blank lines dropped."""
    return [" ".join(NUMBER.sub("#", line).split()) for line in text.splitlines() if line.strip()]


def unit(literal: str) -> float:
    """One unit of the last printed digit: '0.3393' -> 1e-4, '1.5e-05' -> 1e-6, '200' -> 1."""
    mantissa, _, exponent = literal.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def mismatches(expected: str, got: str, rtol: float) -> list[str]:
    """Why got differs from expected (empty when it agrees)."""
    if skeleton(expected) != skeleton(got):
        return [f"the printed words differ:\n--- expected\n{expected}\n--- got\n{got}"]
    want, have = NUMBER.findall(expected), NUMBER.findall(got)
    bad = []
    for w, h in zip(want, have):
        tol = max(rtol * abs(float(w)), unit(w))
        if not abs(float(h) - float(w)) <= tol:
            bad.append(f"{h} != {w} (tolerance {tol:.3g})")
    return bad + ([f"--- got\n{got}"] if bad else [])


def write(path, results) -> None:
    """Rewrite the output blocks of one file from {Example: stdout}; add the missing ones."""
    path = pathlib.Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    for ex, out in sorted(results.items(), key=lambda kv: -kv[0].line):  # bottom up: spans stay valid
        body = out.splitlines()
        if ex.out_span is not None:
            lines[ex.out_span[0]:ex.out_span[1]] = body
        else:
            end = ex.line + ex.code.count("\n") + 1  # the closing fence, 0-based
            lines[end + 1:end + 1] = ["", "```text", *body, "```"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
