"""Command-line front ends: ``vldac balrog`` and ``vldac model merge``.

The main parser (``vldac.cli``) mounts them::

    p = sub.add_parser("balrog", help=...); add_arguments(p); p.set_defaults(func=run)
    m = msub.add_parser("merge", help=...); add_merge_arguments(m); m.set_defaults(func=run_merge)

Both ``run`` functions return an exit status and report expected failures (unknown env, a
folder that would be overwritten, a model that cannot be loaded, a missing simulator) in
one line on stderr with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

AGENT_CHOICES = ("naive", "cot")
MODE_CHOICES = ("image", "language")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``vldac balrog`` options."""
    from vldac.eval.balrog.runner import BALROG_MAX_TOKENS, BALROG_TEMPERATURE

    who = parser.add_argument_group("model (one of)")
    who.add_argument("--model", metavar="PATH",
                     help="hub id, local model folder (e.g. from `vldac model merge`) or "
                          "tiny:<family>")
    who.add_argument("--run", metavar="DIR",
                     help="a `vldac train` output_dir: its adapter is merged in memory")
    who.add_argument("--checkpoint", metavar="NAME",
                     help="with --run: checkpoint folder name (default: the latest)")
    who.add_argument("--base", action="store_true",
                     help="with --run: the run's untrained base model instead")
    parser.add_argument("--envs", nargs="+", metavar="ENV",
                        help="BALROG environments (default: all; worlds without their "
                             "simulator are listed as missing)")
    parser.add_argument("--tasks", nargs="+", metavar="TASK",
                        help="only these BALROG tasks (each must belong to one of --envs; "
                             "without --envs, the worlds of these tasks are played)")
    parser.add_argument("--agent", choices=AGENT_CHOICES, default="naive",
                        help="BALROG agent (default naive)")
    parser.add_argument("--mode", choices=MODE_CHOICES, default="image",
                        help="image: VLM mode, the newest frame in the prompt "
                             "(max_image_history 1); language: text only (BALROG's default "
                             "config). Default image")
    parser.add_argument("--episodes", type=int,
                        help="episodes per task (default: BALROG's count per environment)")
    parser.add_argument("--max-steps", type=int,
                        help="steps per episode (default: each environment's own limit)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the episode seeds and of sampling (default 0)")
    parser.add_argument("--temperature", type=float, default=BALROG_TEMPERATURE,
                        help=f"sampling temperature, 0 = greedy (default {BALROG_TEMPERATURE}, "
                             "BALROG's)")
    parser.add_argument("--max-new-tokens", type=int, default=BALROG_MAX_TOKENS,
                        help=f"tokens per answer (default {BALROG_MAX_TOKENS}, BALROG's "
                             "max_tokens)")
    parser.add_argument("--batch-size", type=int,
                        help="episodes of a task played side by side (default: all of them)")
    parser.add_argument("--device", default="auto", help="with --model: auto|cpu|cuda")
    parser.add_argument("--dtype", default="auto",
                        help="with --model: auto|float32|bfloat16 (auto: fp32 on CPU, bf16 "
                             "on GPU)")
    parser.add_argument("--model-generation-config", action="store_true",
                        help="let the model's generation_config.json fill the decoding knobs "
                             "not set here (top-k/top-p/repetition penalty), as vLLM's "
                             "--generation-config auto does (default: plain greedy/sampling)")
    parser.add_argument("--alternate-roles", action="store_true",
                        help="merge consecutive same-role messages (BALROG's client option; "
                             "needed by chat templates that demand alternating roles, e.g. "
                             "Gemma 3)")
    parser.add_argument("--min-pixels", type=int, help="image processor lower bound (Qwen)")
    parser.add_argument("--max-pixels", type=int, help="image processor upper bound (Qwen)")
    parser.add_argument("--tw-games", metavar="DIR",
                        help="TextWorld games folder (default $VLDAC_TW_GAMES; make one with "
                             "`python -m vldac.eval.balrog.envs.tw_games --out DIR`)")
    parser.add_argument("--boxoban-levels", metavar="DIR",
                        help="unzipped deepmind/boxoban-levels for MiniHack Boxoban (default "
                             "$VLDAC_BOXOBAN_LEVELS)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="results folder (BALROG's layout + summary.json); must be new "
                             "or empty")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out (same settings): play only the "
                             "episodes that have no record yet")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_merge_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``vldac model merge`` options."""
    parser.add_argument("--run", required=True, metavar="DIR",
                        help="a `vldac train` output_dir")
    parser.add_argument("--checkpoint", metavar="NAME",
                        help="checkpoint folder name (default: the latest)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="new (or empty) folder for the merged Hugging Face model")


def _load_model(args: argparse.Namespace):
    from vldac.eval.chat import ChatModel

    bounds = {"min_pixels": args.min_pixels, "max_pixels": args.max_pixels,
              "model_generation_config": args.model_generation_config}
    if bool(args.model) == bool(args.run):
        raise ValueError("give exactly one of --model PATH or --run DIR.")
    if args.model:
        if args.checkpoint or args.base:
            raise ValueError("--checkpoint and --base go with --run, not --model.")
        return ChatModel(args.model, device=args.device, dtype=args.dtype, **bounds)
    if args.base:
        if args.checkpoint:
            raise ValueError("--base evaluates the untrained model; drop --checkpoint.")
        from vldac.models.merge import base_model_dir, run_dtype

        return ChatModel(base_model_dir(args.run), device=args.device,
                         dtype=run_dtype(args.run) if args.dtype == "auto" else args.dtype,
                         **bounds)
    from vldac.models.merge import load_merged

    model, processor, checkpoint = load_merged(args.run, args.checkpoint)
    return ChatModel.from_model(model, processor, name=str(checkpoint), **bounds)


def _env_options(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    options: dict[str, dict[str, str]] = {}
    if args.tw_games:
        options["textworld"] = {"games_dir": args.tw_games}
    if args.boxoban_levels:
        options["minihack"] = {"boxoban_levels_dir": args.boxoban_levels}
    return options


def _fail(err: Exception) -> int:
    print(f"vldac: error: {err}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Play BALROG with the chosen model and print the summary line per environment."""
    from vldac.errors import ModelLoadError, RunExistsError
    from vldac.eval.balrog.runner import run_balrog

    out = Path(args.out)
    try:
        if not args.resume and out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise RunExistsError(f"{out} already holds files; choose a new --out or pass "
                                 "--resume to continue that run.")
        model = _load_model(args)
        summary = run_balrog(
            model, envs=args.envs, tasks=args.tasks, agent=args.agent,
            image=args.mode == "image", episodes=args.episodes, max_steps=args.max_steps,
            seed=args.seed, temperature=args.temperature, max_new_tokens=args.max_new_tokens,
            out_dir=out, progress=not args.no_progress, batch_size=args.batch_size,
            env_options=_env_options(args), resume=args.resume,
            alternate_roles=args.alternate_roles)
    except (ValueError, ImportError, ModelLoadError, RunExistsError, FileNotFoundError) as err:
        return _fail(err)
    print(f"BALROG ({summary['agent']}, {summary['mode']} mode) {summary['model']}: "
          f"{summary['average_progression']:.2f}% ± {summary['standard_error']:.2f}%")
    for name, env in summary["environments"].items():
        print(f"  {name}: {env['progression']:.2f}% ± {env['standard_error']:.2f}% "
              f"({env['episodes']} episodes)")
    for name, why in summary["missing"].items():
        print(f"  {name}: not run ({why})")
    print(f"results: {out / 'summary.json'}")
    return 0


def run_merge(args: argparse.Namespace) -> int:
    """Merge a run's adapter into its base model and save it as a Hugging Face folder."""
    from vldac.errors import ModelLoadError, RunExistsError
    from vldac.models.merge import merge_checkpoint

    try:
        out = merge_checkpoint(args.run, args.out, args.checkpoint)
    except (ValueError, ModelLoadError, RunExistsError, FileNotFoundError) as err:
        return _fail(err)
    print(f"merged model: {out}")
    return 0
