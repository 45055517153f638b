"""Command line: `python -m plrf demo` (and more subcommands as the package grows)."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plrf", description="plrf: power-law random features toolkit")
    sub = parser.add_subparsers(dest="command", required=True)
    from . import cli_frontier, demo

    demo.add_parser(sub)
    cli_frontier.add_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
