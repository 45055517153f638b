"""Command line: `python -m plrf <subcommand>`; `python -m plrf --help` lists them.

demo     -- SGD, SGD-M and DANA on a default problem: exponent table and plrf-demo.png
frontier -- the compute-optimal frontier of one optimizer against theory
bench    -- headline speed ratios of every engine against plain NumPy
"""
from __future__ import annotations

import argparse

from . import bench, demo, frontier

SUBCOMMANDS = (demo, frontier, bench)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plrf", description="plrf: power-law random features toolkit")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in SUBCOMMANDS:
        command.add_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args) or 0
