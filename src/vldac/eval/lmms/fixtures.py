"""Tiny fixtures of the lmms-eval benchmarks, in each benchmark's real files' layout and schema.

Synthetic media only (drawn screenshots, generated videos): never real benchmark media. A
fixture folder works as a benchmark's data folder (``vldac lmms --data DIR``).

The main parser (``vldac.cli``) mounts the command line::

    p = sub.add_parser("fixtures", help=...); add_arguments(p); p.set_defaults(func=run)

    vldac fixtures --benchmark vsi_bench --out fixtures/vsi_bench
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vldac.eval.lmms import registry


def make_fixture(name: str, root: str | Path) -> Path:
    """Write benchmark ``name``'s fixture under ``root`` (new or empty); returns ``root``."""
    benchmark = registry.get(name)
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root} is not empty; choose a new folder for the fixture "
                              "(nothing is ever overwritten).")
    benchmark.make_fixture(root)
    return root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``vldac fixtures`` options."""
    parser.add_argument("--benchmark", required=True, metavar="NAME",
                        help=f"one of: {', '.join(registry.names())}")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="new (or empty) folder for the fixture")


def run(args: argparse.Namespace) -> int:
    """Write the fixture; expected failures end with one line on stderr and status 2."""
    try:
        root = make_fixture(args.benchmark, args.out)
    except (ValueError, FileExistsError, ImportError) as err:
        print(f"vldac: error: {err}", file=sys.stderr)
        return 2
    print(f"{args.benchmark} fixture (synthetic media) written to {root}; use it with "
          f"`vldac lmms --benchmark {args.benchmark} --data {root}`")
    return 0
