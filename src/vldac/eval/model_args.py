"""The model options every benchmark command shares: a model path, or a training run (its
adapter merged in memory, or its untrained base model)."""

from __future__ import annotations

import argparse


def add_model_arguments(parser: argparse.ArgumentParser, run_note: str = "") -> None:
    """``--model PATH`` or ``--run DIR [--checkpoint NAME | --base]``."""
    who = parser.add_argument_group("model (one of)")
    who.add_argument("--model", metavar="PATH",
                     help="hub id, local model folder (e.g. from `vldac model merge`) or "
                          "tiny:<family>")
    who.add_argument("--run", metavar="DIR",
                     help=f"a `vldac train` output_dir: its adapter is merged in memory{run_note}")
    who.add_argument("--checkpoint", metavar="NAME",
                     help="with --run: checkpoint folder name (default: the latest)")
    who.add_argument("--base", action="store_true",
                     help="with --run: the run's untrained base model instead")


def check_model_arguments(args: argparse.Namespace) -> None:
    """Raise ValueError (one sentence) unless the model options name exactly one model."""
    if bool(args.model) == bool(args.run):
        raise ValueError("give exactly one of --model PATH or --run DIR.")
    if args.model and (args.checkpoint or args.base):
        raise ValueError("--checkpoint and --base go with --run, not --model.")
    if args.base and args.checkpoint:
        raise ValueError("--base evaluates the untrained model; drop --checkpoint.")
