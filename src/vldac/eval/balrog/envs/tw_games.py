"""Generate BALROG's TextWorld games locally (a cache that is never overwritten).

BALROG downloads 25 games per task that were made for Intelligent Go-Explore
(conglu1997/intelligent-go-explore, ``textworld/misc/make_*.py``). Those scripts call
TextWorld's game maker with:

* the_cooking_game: ``tw-make tw-cooking --recipe 5 --take 5 --go 12 --open --cook --cut
  --split test`` -> ``cooking_item5_seed_<seed>``;
* treasure_hunter: ``tw-treasure_hunter --level 30``, keeping only games whose walkthrough
  has 20 steps -> ``seed_<seed>``;
* coin_collector: ``tw-coin_collector --level 220`` -> ``level_220_seed_<seed>``;

through a copy of ``tw-make`` that sets ``grammar.only_last_action = True`` for challenges
(treasure hunter and coin collector). This module does the same through TextWorld's Python
API (what ``tw-make`` runs), with two differences that the reader must know:

* TextWorld 1.7.0 only writes (and plays) Z-machine ``.z8`` games; the originals of
  treasure_hunter and coin_collector are Glulx ``.ulx``. Same generator and settings, other
  story format.
* The original seeds were drawn at random and never passed to the generator; here the seeds
  are fixed (1, 2, 3, ... per task, skipping treasure-hunter seeds whose walkthrough is not
  20 steps long) so that the cache is reproducible. Our games are therefore not BALROG's
  games: same distribution, other draws. Use the official ``tw_games`` folder for BALROG's
  own games where this TextWorld can play them (the cooking games are ``.z8``).

Cost: a coin-collector or cooking game takes a few seconds; a level-30 treasure-hunter game
from seconds to many minutes (the quest search), and some are rejected (1 of seeds 1-4).

Usage: ``python -m vldac.eval.balrog.envs.tw_games --out DIR [--games N] [--tasks ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from vldac.eval.balrog.envs._common import require

TASKS = ["treasure_hunter", "the_cooking_game", "coin_collector"]
DEFAULT_GAMES_PER_TASK = 25  # as many as BALROG's official set
GAMES_ENV_VAR = "VLDAC_TW_GAMES_PER_TASK"
CHALLENGE_ARGS = {
    "the_cooking_game": ("tw-cooking", ["--recipe", "5", "--take", "5", "--go", "12", "--open",
                                        "--cook", "--cut", "--split", "test"]),
    "treasure_hunter": ("tw-treasure_hunter", ["--level", "30"]),
    "coin_collector": ("tw-coin_collector", ["--level", "220"]),
}  # fmt: skip
TREASURE_WALKTHROUGH = 20


def game_stem(task: str, seed: int) -> str:
    """The original file-name pattern of each task."""
    return {"the_cooking_game": f"cooking_item5_seed_{seed}",
            "treasure_hunter": f"seed_{seed}",
            "coin_collector": f"level_220_seed_{seed}"}[task]  # fmt: skip


def _walkthrough_length(json_path: Path) -> int:
    return len(json.loads(json_path.read_text())["metadata"].get("walkthrough", []))


def make_game(task: str, seed: int, folder: Path) -> Path:
    """Make one game (``.z8`` plus ``.json``/``.ni``) unless it exists; return its path."""
    require("textworld", "TextWorld")
    import textworld
    import textworld.challenges
    import textworld.generator

    path = folder / task / game_stem(task, seed)
    game_file = path.with_suffix(".z8")
    if game_file.exists():
        return game_file
    name, args = CHALLENGE_ARGS[task]
    _, make, add_arguments = textworld.challenges.CHALLENGES[name]
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    settings = vars(parser.parse_args(args))
    settings.update(seed=seed, format="z8", output=str(path), force=False, silent=True)
    options = textworld.GameOptions()
    options.seeds = seed
    options.path = str(path)
    options.file_ext = ".z8"
    options.force_recompile = False
    # IGE's tw-make copy turns this on for every challenge; the cooking games were made
    # with TextWorld's own tw-make, where the flag only exists for custom games.
    options.grammar.only_last_action = task != "the_cooking_game"
    path.parent.mkdir(parents=True, exist_ok=True)
    game = make(settings=settings, options=options)
    return Path(textworld.generator.compile_game(game, options))


def generate(folder: str | os.PathLike, games: int | None = None,
             tasks: list[str] | None = None) -> dict[str, list[Path]]:  # fmt: skip
    """Fill ``folder/<task>/`` up to ``games`` games per task; existing games are kept.

    ``games`` defaults to ``$VLDAC_TW_GAMES_PER_TASK`` or 25.
    """
    games = games or int(os.environ.get(GAMES_ENV_VAR, DEFAULT_GAMES_PER_TASK))
    folder = Path(folder)
    made: dict[str, list[Path]] = {}
    for task in tasks or TASKS:
        if task not in CHALLENGE_ARGS:
            raise ValueError(f"Unknown TextWorld task {task!r}; valid: {', '.join(TASKS)}.")
        found: list[Path] = []
        seed = 0
        while len(found) < games:
            seed += 1
            rejected = folder / task / f".rejected_{game_stem(task, seed)}"
            if rejected.exists():
                continue
            game_file = make_game(task, seed, folder)
            if (
                task == "treasure_hunter"
                and _walkthrough_length(game_file.with_suffix(".json")) != TREASURE_WALKTHROUGH
            ):
                for suffix in (".z8", ".json", ".ni"):  # IGE deletes the rejected games too
                    game_file.with_suffix(suffix).unlink(missing_ok=True)
                rejected.touch()  # remembered, so that a cache refill skips it at once
                continue
            found.append(game_file)
        made[task] = found
    return made


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="cache folder (tw_games layout)")
    parser.add_argument("--games", type=int, default=None,
                        help=f"games per task (default ${GAMES_ENV_VAR} or "
                             f"{DEFAULT_GAMES_PER_TASK})")  # fmt: skip
    parser.add_argument("--tasks", nargs="*", default=None, choices=TASKS)
    args = parser.parse_args(argv)
    for task, files in generate(args.out, args.games, args.tasks).items():
        print(f"{task}: {len(files)} games in {Path(args.out) / task}")


if __name__ == "__main__":
    main()
