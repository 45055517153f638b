"""Command line: `python -m plrf <subcommand>`; `python -m plrf --help` lists them.

demo     -- SGD, SGD-M and DANA on a default problem: exponent table and plrf-demo.png
frontier -- the compute-optimal frontier of one optimizer against theory
bench    -- headline speed ratios of every engine against plain NumPy
gallery  -- the DANA paper's headline figures: loss-curve shapes, frontiers, the phase plane
"""
from __future__ import annotations

import argparse
import sys

from . import bench, demo, frontier, gallery

SUBCOMMANDS = (demo, frontier, bench, gallery)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plrf", description="plrf: power-law random features toolkit")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in SUBCOMMANDS:
        command.add_parser(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except (ValueError, MemoryError, OSError, ImportError, NotImplementedError) as exc:
        # a refused argument is a usage error: one line and exit 2, as argparse does for bad flags
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"{parser.prog} {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted", file=sys.stderr)
        return 130
