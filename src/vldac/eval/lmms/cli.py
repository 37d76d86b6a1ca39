"""``vldac lmms``: one benchmark through lmms-eval, for a model folder or a training run.

The main parser (``vldac.cli``) mounts it::

    p = sub.add_parser("lmms", help=...); add_arguments(p); p.set_defaults(func=run)

    vldac lmms --model models/merged --benchmark vsi_bench --data data/VSI-Bench --out results/x
    vldac lmms --run runs/alfworld --benchmark visualwebbench --data data/vwb --out results/y
    vldac lmms --run runs/alfworld --base --benchmark vsi_bench --fixture --out results/z

``run`` returns an exit status; expected failures (unknown benchmark, missing data, a folder
that would be overwritten, a model that cannot be loaded, a failed lmms-eval task) end with one
line on stderr and status 2.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``vldac lmms`` options."""
    from vldac.eval.lmms import registry
    from vldac.eval.lmms.runner import BACKENDS
    from vldac.eval.model_args import add_model_arguments

    add_model_arguments(parser, run_note=" (backend vldac)")
    parser.add_argument("--benchmark", required=True, metavar="NAME",
                        help=f"one of: {', '.join(registry.names())}")
    data = parser.add_argument_group("data (one of)")
    data.add_argument("--data", metavar="DIR",
                      help="the benchmark's local files (see the benchmark's data help)")
    data.add_argument("--fixture", action="store_true",
                      help="generate the benchmark's tiny synthetic fixture into OUT/fixture "
                           "and run on it (a smoke test: its scores mean nothing)")
    parser.add_argument("--backend", choices=BACKENDS, default="vldac",
                        help="vldac: our model class, any family, CPU or GPU (default); "
                             "qwen2_vl: lmms-eval's built-in Qwen2-VL class (needs a CUDA GPU "
                             "and torchvision; takes --model or --run --base)")
    parser.add_argument("--limit", type=int,
                        help="at most this many questions per task (smoke tests only)")
    parser.add_argument("--device", default="auto", help="auto|cpu|cuda (backend vldac)")
    parser.add_argument("--max-new-tokens", type=int, metavar="N",
                        help="cap every task's own generation length at N tokens (smoke tests "
                             "with a tiny model only: it changes the scores; recorded)")
    parser.add_argument("--batch-size", type=int, default=1,
                        help="questions per generate call (default 1)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="results folder (metrics.json, samples/, tasks/); must be new or "
                             "empty")


def _model(args: argparse.Namespace):
    """``(model name, loaded ChatModel or None)`` for the chosen model options."""
    from vldac.eval.model_args import check_model_arguments

    check_model_arguments(args)
    if args.model:
        return args.model, None
    from vldac.models.merge import base_model_dir

    if args.base:
        return base_model_dir(args.run), None
    if args.backend == "qwen2_vl":
        raise ValueError("the qwen2_vl backend loads a model folder: run `vldac model merge "
                         "--run DIR --out MERGED` and pass --model MERGED.")
    from vldac.eval.chat import ChatModel
    from vldac.eval.lmms.runner import PAPER_SETTINGS
    from vldac.models.merge import load_merged

    model, processor, checkpoint = load_merged(args.run, args.checkpoint)
    chat = ChatModel.from_model(model, processor, name=str(checkpoint),
                                min_pixels=PAPER_SETTINGS["min_pixels"],
                                max_pixels=PAPER_SETTINGS["max_pixels"])
    return str(checkpoint), chat


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the headline scores and where metrics.json is."""
    from pathlib import Path

    from vldac.errors import ModelLoadError, RunExistsError, missing_package_message
    from vldac.eval.lmms.runner import BackendUnavailable, LmmsEvalError, run_lmms

    try:
        if bool(args.data) == bool(args.fixture):
            raise ValueError("give exactly one of --data DIR or --fixture.")
        out = Path(args.out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise RunExistsError(f"{out} already holds files; choose a new --out.")
        name, chat = _model(args)
        metrics = run_lmms(name, args.benchmark, out_dir=out, data_root=args.data,
                           fixture=args.fixture, backend=args.backend, limit=args.limit,
                           device=args.device, batch_size=args.batch_size, chat_model=chat,
                           max_new_tokens=args.max_new_tokens)
    except (ValueError, ImportError, FileNotFoundError, FileExistsError, ModelLoadError,
            RunExistsError, LmmsEvalError, BackendUnavailable) as err:
        message = missing_package_message(err) if isinstance(err, ModuleNotFoundError) else err
        print(f"vldac: error: {message}", file=sys.stderr)
        return 2
    print(f"{metrics['benchmark']} ({metrics['backend']}) {metrics['model']}"
          + (" [fixture: numbers mean nothing]" if metrics["fixture"] else ""))
    for key, value in metrics["scores"].items():
        print(f"  {key}: {value:.2f}")
    print(f"metrics: {out / 'metrics.json'}")
    return 0
