"""Command-line front end of ``vldac balrog`` (mounted by :mod:`vldac.cli`).

``run`` returns an exit status and reports expected failures (unknown env, a folder that
would be overwritten, a model that cannot be loaded, a missing simulator) in one line on
stderr with status 2.
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
    from vldac.eval.model_args import add_model_arguments

    add_model_arguments(parser)
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


def _load_model(args: argparse.Namespace):
    from vldac.eval.chat import ChatModel
    from vldac.eval.model_args import check_model_arguments

    bounds = {"min_pixels": args.min_pixels, "max_pixels": args.max_pixels,
              "model_generation_config": args.model_generation_config}
    check_model_arguments(args)
    if args.model:
        return ChatModel(args.model, device=args.device, dtype=args.dtype, **bounds)
    if args.base:
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
    from vldac.errors import missing_package_message

    message = missing_package_message(err) if isinstance(err, ModuleNotFoundError) else err
    print(f"vldac: error: {message}", file=sys.stderr)
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
