"""Generate ALFRED-style ALFWorld games offline: ``python -m vldac.envs.alfworld.generate``.

The official ALFWorld games (``alfworld-download``) cannot be fetched everywhere. This writes
games in the same layout, which ``AlfredTWEnv`` and :class:`~vldac.envs.alfworld.env.AlfworldEnv`
read like the official ones::

    OUT/json_2.1.1/{train,valid_seen,valid_unseen}/<task>-<object>-<target>-<room>/trial_<id>/
        traj_data.json   task_type, pddl_params, scene, a templated goal text
        game.tw-pddl     pddl_domain, grammar (goal text filled in), pddl_problem,
                         solvable: true, walkthrough (the expert's winning commands)

Rooms are ALFRED's floor plans (see :mod:`.scenes`). Splits follow ALFRED: train and
valid_seen use the training floor plans (different games), valid_unseen only ALFRED's held-out
floor plans (1-6, 201-206, 301-306, 401-406), so its room layouts are never trained on. Task
types are dealt round-robin, so every split holds every requested type. A game is kept only
if ALFWorld's handcoded expert wins it within ``max_steps`` commands (its commands are
stored as the walkthrough); ``planner=True`` also requires a fast-downward plan.

Caching: the output folder carries ``vldac_alfworld.json`` with the arguments it was made
with. Re-running with the same arguments returns at once; different arguments, or a folder
that holds other files, is an error (nothing is ever overwritten). Games are written to a
temporary sibling folder and renamed into place, under a lock, so parallel callers are safe.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

from alfworld.gen import constants

from vldac.envs.alfworld.engine import TextEngine
from vldac.envs.alfworld.scenes import load_room, room_numbers
from vldac.envs.alfworld.tasks import resolve_task_types, rooms_for, sample_task

__all__ = ["SPLITS", "default_data_dir", "generate_games", "main"]

FORMAT_VERSION = 1
MANIFEST = "vldac_alfworld.json"
# Our split names -> ALFWorld's folder names (and AlfredTWEnv's train_eval names).
SPLITS = {"train": "train", "seen": "valid_seen", "unseen": "valid_unseen"}
_MAX_TRIES = 40  # samples per game before giving up on a (split, index)


def default_data_dir(num: int, num_eval: int, seed: int) -> Path:
    """Where games are cached when no folder is given: $XDG_CACHE_HOME/vldac/alfworld/..."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "vldac" / "alfworld" / f"games-n{num}-e{num_eval}-s{seed}"


def _assets() -> tuple[str, str]:
    data = Path(constants.__file__).parents[1] / "data"
    return (data / "alfred.pddl").read_text(), (data / "alfred.twl2").read_text()


def _write_game(folder: Path, task, scene, goal_text: str, name: str, walkthrough=None) -> Path:
    domain, grammar = _assets()
    folder.mkdir(parents=True, exist_ok=True)
    traj = {"task_type": task.task_type, "pddl_params": task.pddl_params,
            "scene": {"floor_plan": f"FloorPlan{scene.room.number}",
                      "scene_num": scene.room.number, "room_type": scene.room.kind},
            "task_id": name, "turk_annotations": {"anns": [{"task_desc": goal_text}]},
            "generator": f"vldac.envs.alfworld.generate v{FORMAT_VERSION}"}
    game = {"pddl_domain": domain, "grammar": grammar.replace("UNKNOWN GOAL", goal_text),
            "pddl_problem": scene.pddl_problem(name, task.pddl_goal()),
            "solvable": walkthrough is not None, "walkthrough": walkthrough}
    (folder / "traj_data.json").write_text(json.dumps(traj, indent=1))
    (folder / "game.tw-pddl").write_text(json.dumps(game))
    return folder / "game.tw-pddl"


def _solve(engine: TextEngine, game_file: Path, max_steps: int, planner: bool):
    """The handcoded expert's winning commands, or None if it (or, if asked, fast-downward)
    fails. A winning walkthrough already proves a game solvable; the planner is a second
    opinion that can take minutes on a large kitchen, so it is opt-in."""
    try:
        state, commands = engine.reset(game_file, plan=planner), []
        if planner and not state.planner_plan:
            return None
        while not state.won and len(commands) < max_steps:
            command = state.expert_plan[0] if state.expert_plan else "look"
            commands.append(command)
            state = engine.step(command)
    except Exception:  # noqa: BLE001 - the expert raises on games it cannot handle
        return None
    return commands if state.won else None


def _generate_split(root: Path, split: str, count: int, seed: int, task_types, max_steps: int,
                    engine: TextEngine, seen_problems: set[str], planner: bool,
                    max_receptacles: int | None) -> None:
    test_rooms = set(constants.TEST_SCENE_NUMBERS)
    rooms = [load_room(n) for n in room_numbers() if (n in test_rooms) == (split == "unseen")]
    for index in range(count):
        task_type = task_types[index % len(task_types)]
        candidates = rooms_for(task_type, rooms)
        for attempt in range(_MAX_TRIES):
            rng = random.Random(f"{seed}/{split}/{index}/{attempt}")
            try:
                task, scene = sample_task(task_type, rng.choice(candidates), rng, max_receptacles)
            except ValueError:
                continue
            problem = scene.pddl_problem("p", task.pddl_goal())
            digest = hashlib.sha256(problem.encode()).hexdigest()[:10]
            if digest in seen_problems:  # keeps the splits (and games) disjoint
                continue
            target = task.parent_target or task.toggle_target
            name = f"trial_{split}_{index:05d}_{digest}"
            folder = (root / SPLITS[split] /
                      f"{task_type}-{task.object_target}-{target}-{scene.room.number}" / name)
            goal_text = task.description(rng)
            game_file = _write_game(folder, task, scene, goal_text, name)
            walkthrough = _solve(engine, game_file, max_steps, planner)
            if walkthrough is not None:
                _write_game(folder, task, scene, goal_text, name, walkthrough)
                seen_problems.add(digest)
                break
            shutil.rmtree(folder.parent if len(list(folder.parent.iterdir())) == 1 else folder)
        else:
            raise RuntimeError(f"could not generate a solvable {task_type} game for {split} "
                               f"#{index} in {_MAX_TRIES} tries.")


@contextlib.contextmanager
def _locked(out: Path):
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def generate_games(out: str | Path, num: int = 200, seed: int = 0, *, num_eval: int | None = None,
                   task_types=None, max_steps: int = 50, planner: bool = False,
                   max_receptacles: int | None = None) -> Path:
    """Generate ``num`` train games and ``num_eval`` valid_seen and valid_unseen games into
    ``out`` (default num_eval: max(6, num // 10)); return ``out``. Idempotent: see the module
    docstring. Deterministic: the same arguments write byte-identical games."""
    out = Path(out).expanduser().resolve()
    num_eval = max(6, num // 10) if num_eval is None else num_eval
    types = resolve_task_types(task_types)
    args = {"format": FORMAT_VERSION, "num": num, "num_eval": num_eval, "seed": seed,
            "task_types": list(types), "max_steps": max_steps, "planner": planner,
            "max_receptacles": max_receptacles}
    with _locked(out):
        manifest = out / MANIFEST
        if manifest.is_file():
            made_with = json.loads(manifest.read_text())
            if made_with != args:
                raise FileExistsError(f"{out} holds ALFWorld games made with {made_with}, not "
                                      f"{args}; pass another --out folder or delete that one.")
            return out
        if out.exists() and any(out.iterdir()):
            raise FileExistsError(f"{out} is not empty and is not a vldac ALFWorld game folder; "
                                  "pass an empty or new --out folder.")
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        engine = TextEngine("handcoded")
        try:
            seen: set[str] = set()
            for split, count in (("train", num), ("seen", num_eval), ("unseen", num_eval)):
                _generate_split(tmp / "json_2.1.1", split, count, seed, types, max_steps,
                                engine, seen, planner, max_receptacles)
            (tmp / MANIFEST).write_text(json.dumps(args, indent=1))
            if out.exists():
                out.rmdir()  # empty, checked above
            tmp.rename(out)
        finally:
            engine.close()
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vldac.envs.alfworld.generate",
        description="Generate solvable ALFRED-style ALFWorld games (train/valid_seen/valid_unseen).")
    parser.add_argument("--out", required=True, help="output folder (created; never overwritten)")
    parser.add_argument("--num", type=int, default=200, help="train games (default 200)")
    parser.add_argument("--num-eval", type=int, default=None,
                        help="games in each of valid_seen and valid_unseen (default max(6, num/10))")
    parser.add_argument("--seed", type=int, default=0, help="generation seed (default 0)")
    parser.add_argument("--task-types", nargs="+", default=None,
                        help="task types by name or number 1..6 (default: all six)")
    parser.add_argument("--max-steps", type=int, default=50,
                        help="keep only games the expert wins within this many steps (default 50)")
    parser.add_argument("--planner", action="store_true",
                        help="also require a fast-downward plan (slow on large kitchens)")
    parser.add_argument("--max-receptacles", type=int, default=None,
                        help="shrink rooms to this many receptacles (faster; default: full rooms)")
    args = parser.parse_args(argv)
    types = [int(t) if t.isdigit() else t for t in args.task_types] if args.task_types else None
    try:
        out = generate_games(args.out, args.num, args.seed, num_eval=args.num_eval,
                             task_types=types, max_steps=args.max_steps,
                             planner=args.planner, max_receptacles=args.max_receptacles)
    except (FileExistsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
