"""The ``vldac`` command: the same code paths the workflow scripts call.

    vldac train --config config.yaml [--preset demo] [--set train.lr=1e-5] [--resume]
    vldac model make-tiny --family qwen2_vl --out models/tiny-qwen2vl
    vldac envs
    vldac env check gym_cards/EZPoints-v0 [--steps 200] [--seed 0] [--out DIR] [--set key=value]
    vldac eval --run runs/demo [--base] [--episodes 64] [--decoding greedy] [--out FILE]
               [--frames DIR]
    vldac bench train [--envs 32] [--updates 3] [--repeats 3]

Expected failures (bad config, missing file, model that cannot be loaded, a run that would
be overwritten, a missing extra) end with one sentence on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _cmd_train(args: argparse.Namespace) -> None:
    from vldac.config import load_config

    cfg = load_config(args.config, args.preset, args.set)
    from vldac.train import train

    result = train(cfg, resume=args.resume)
    if os.environ.get("RANK", "0") != "0":
        return  # under torchrun, rank 0 reports for the run
    final = result.final
    print(f"finished {final.get('update', 0)} updates, {final.get('env_steps', 0)} env steps; "
          f"success rate {final.get('rollout/success_rate', float('nan')):.3f}")
    print(f"checkpoint: {result.checkpoint}")
    print(f"metrics:    {result.metrics} (and {result.output_dir / 'dvclive'})")


def _cmd_make_tiny(args: argparse.Namespace) -> None:
    from vldac.models.tiny import make_tiny

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; choose a new --out folder "
                              "(nothing is ever overwritten).")
    path = make_tiny(args.family, out, seed=args.seed)
    print(f"tiny {args.family} model written to {path} (random weights: its numbers mean "
          "nothing about the paper)")


def _cmd_merge(args: argparse.Namespace) -> None:
    from vldac.models.merge import merge_checkpoint

    print(f"merged model: {merge_checkpoint(args.run, args.out, args.checkpoint)}")


def _cmd_envs(_args: argparse.Namespace) -> None:
    from vldac.envs import registered

    print("\n".join(registered()))


def _cmd_env_check(args: argparse.Namespace) -> int:
    from vldac.envs.check import check_env, format_table, parse_env_kwargs

    try:
        result = check_env(args.name, steps=args.steps, expert_episodes=args.expert_episodes,
                           seed=args.seed, out=args.out, **parse_env_kwargs(args.set))
    except (ImportError, ValueError) as err:  # a missing extra, an unknown env or argument
        print(f"vldac: error: {err}", file=sys.stderr)
        return 2
    print(format_table(result))
    if not result.passed:
        print(f"vldac: check failed: {result.reason()}", file=sys.stderr)
        return 1
    return 0


def _cmd_eval(args: argparse.Namespace) -> None:
    from vldac.eval import evaluate, heldout_seeds, load_run_policy
    from vldac.rollout import EnvSpec, VectorEnv

    out = Path(args.out) if args.out else None
    if out is not None and out.exists():
        raise FileExistsError(f"{out} already exists; choose another --out "
                              "(nothing is ever overwritten).")
    policy, cfg = load_run_policy(Path(args.run), args.checkpoint)
    num_envs = args.envs or cfg.env.num_envs
    spec = EnvSpec(cfg.env.name, cfg.env.constructor_kwargs())
    with VectorEnv(spec, num_envs, cfg.env.num_workers) as envs:
        result = evaluate(policy, envs, heldout_seeds(args.seed, args.episodes),
                          env_name=cfg.env.name, history=cfg.env.history,
                          max_new_tokens=cfg.rollout.max_new_tokens,
                          temperature=cfg.rollout.temperature, decoding=args.decoding,
                          base_model=args.base, progress=True,
                          frames_dir=Path(args.frames) if args.frames else None)
    s = result.summary()
    lo, hi = s["success_rate_ci95"]
    who = "base model" if args.base else f"{args.run} ({args.checkpoint or 'latest'})"
    print(f"{who} on {s['env']}, {s['episodes']} held-out episodes, {s['decoding']}: "
          f"success {s['success_rate']:.3f} [95% CI {lo:.3f}-{hi:.3f}], "
          f"return {s['return_mean']:.3f}, parse failures {s['parse_failure_rate']:.3f}")
    if out is not None:
        result.write(out)
        print(f"episodes: {out}")


def _cmd_bench_train(args: argparse.Namespace) -> None:
    from vldac.bench import bench_train

    bench_train(num_envs=args.envs, updates=args.updates, repeats=args.repeats,
                loop=args.loop, out=args.out)


def build_parser() -> argparse.ArgumentParser:
    from vldac.eval.balrog import cli as balrog_cli
    from vldac.eval.lmms import cli as lmms_cli
    from vldac.eval.lmms import fixtures as lmms_fixtures
    from vldac.models.families import FAMILIES

    parser = argparse.ArgumentParser(prog="vldac", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a VLM with VL-DAC")
    p.add_argument("--config", default="config.yaml", help="experiment YAML (default: config.yaml)")
    p.add_argument("--preset", action="append", default=[], help="preset applied on top (repeatable)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one key, e.g. --set train.lr=1e-5 (repeatable)")
    p.add_argument("--resume", action="store_true", help="continue the run in output_dir")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("model", help="model utilities")
    msub = p.add_subparsers(dest="model_command", required=True)
    t = msub.add_parser("make-tiny", help="build a tiny random VLM offline")
    t.add_argument("--family", required=True, choices=sorted(FAMILIES))
    t.add_argument("--out", required=True)
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(func=_cmd_make_tiny)
    m = msub.add_parser("merge", help="merge a trained run's LoRA adapter into its base model "
                        "(a plain Hugging Face folder, what the benchmarks load)")
    m.add_argument("--run", required=True, metavar="DIR", help="a `vldac train` output_dir")
    m.add_argument("--checkpoint", metavar="NAME",
                   help="checkpoint folder name (default: the latest)")
    m.add_argument("--out", required=True, metavar="DIR",
                   help="new (or empty) folder for the merged model")
    m.set_defaults(func=_cmd_merge)

    p = sub.add_parser("envs", help="list the registered environments")
    p.set_defaults(func=_cmd_envs)

    p = sub.add_parser("env", help="environment utilities")
    esub = p.add_subparsers(dest="env_command", required=True)
    c = esub.add_parser("check", help="health check: random steps, then the scripted expert")
    c.add_argument("name", help="registered env name (see `vldac envs`)")
    c.add_argument("--steps", type=int, default=200, help="random steps (default 200)")
    c.add_argument("--expert-episodes", type=int, default=5,
                   help="expert episodes; the check passes when one is won (default 5)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", default="env-check", help="folder for the PNG, prompt and JSON")
    c.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="env constructor argument, e.g. --set size=64 (repeatable)")
    c.set_defaults(func=_cmd_env_check)

    p = sub.add_parser("eval", help="evaluate a trained run (or its base model) on held-out "
                       "seeds of its world")
    p.add_argument("--run", required=True, help="output_dir of a `vldac train` run")
    p.add_argument("--checkpoint", help="checkpoint folder name (default: the latest)")
    p.add_argument("--base", action="store_true", help="evaluate the base model (adapter off)")
    p.add_argument("--episodes", type=int, default=64, help="held-out episodes (default 64)")
    p.add_argument("--decoding", choices=["greedy", "sampled"], default="greedy")
    p.add_argument("--seed", type=int, default=0, help="seed of the held-out seed list")
    p.add_argument("--envs", type=int, help="parallel envs (default: the run's num_envs)")
    p.add_argument("--out", help="write the summary and every episode to this JSON file")
    p.add_argument("--frames", help="save the image the model saw at each step under this "
                   "folder (seed<S>/step<T>.png; the episodes list them)")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("balrog", help="BALROG's agentic benchmark (BabyAI, Crafter, TextWorld, "
                       "MiniHack, NetHack) with the naive or chain-of-thought agent")
    balrog_cli.add_arguments(p)
    p.set_defaults(func=balrog_cli.run)

    p = sub.add_parser("lmms", help="VSI-Bench, VisualWebBench and the general benchmarks "
                       "through lmms-eval, on local data or a generated fixture")
    lmms_cli.add_arguments(p)
    p.set_defaults(func=lmms_cli.run)

    p = sub.add_parser("fixtures", help="write a tiny synthetic dataset in a benchmark's real "
                       "schema (tests; its numbers mean nothing)")
    lmms_fixtures.add_arguments(p)
    p.set_defaults(func=lmms_fixtures.run)

    p = sub.add_parser("bench", help="performance benchmarks of this code (not the paper's)")
    bsub = p.add_subparsers(dest="bench_command", required=True)
    b = bsub.add_parser("train", help="end-to-end training throughput on the tiny reference model")
    b.add_argument("--envs", type=int, default=32, help="parallel envs (ours)")
    b.add_argument("--updates", type=int, default=2, help="updates per repeat")
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--loop", choices=["vldac", "official", "both"], default="both")
    b.add_argument("--out", default=None, help="also write the table as JSON here")
    b.set_defaults(func=_cmd_bench_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from vldac.config import ConfigError
    from vldac.errors import ModelLoadError, RunExistsError, missing_package_message

    try:
        status = args.func(args)
    except (ConfigError, ModelLoadError, RunExistsError, FileExistsError, FileNotFoundError) as err:
        print(f"vldac: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        print(f"vldac: error: {missing_package_message(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vldac: interrupted; continue a training run with --resume", file=sys.stderr)
        return 130
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
