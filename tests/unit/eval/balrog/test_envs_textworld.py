"""BALROG TextWorld: games made with BALROG's generator settings, read with its rules.

The session fixture makes one real game for coin_collector and the_cooking_game (a few
seconds each). A treasure_hunter game at level 30 takes minutes to make, so that task's
generation rule (keep walkthroughs of 20 steps) is checked with a stand-in maker, and its
env reads a copy of the coin game (the env only reads the files).
"""

import json
import shutil

import pytest

pytest.importorskip("textworld", reason="textworld is not installed: pip install -e '.[balrog]'")

from vldac.eval.balrog.envs import make_env, tw_games  # noqa: E402
from vldac.eval.balrog.envs.textworld import filter_objective, find_games  # noqa: E402


@pytest.fixture(scope="session")
def games_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tw_games")
    made = tw_games.generate(root, games=1, tasks=["coin_collector", "the_cooking_game"])
    assert [p.name for p in made["coin_collector"]] == ["level_220_seed_1.z8"]
    assert [p.name for p in made["the_cooking_game"]] == ["cooking_item5_seed_1.z8"]
    (root / "treasure_hunter").mkdir()
    for suffix in (".z8", ".json", ".ni"):
        source = made["coin_collector"][0].with_suffix(suffix)
        shutil.copy(source, (root / "treasure_hunter" / "seed_1").with_suffix(suffix))
    return root


def test_generation_never_overwrites(games_dir):
    game = games_dir / "coin_collector" / "level_220_seed_1.z8"
    before = game.stat().st_mtime_ns
    tw_games.generate(games_dir, games=1, tasks=["coin_collector"])
    assert game.stat().st_mtime_ns == before


def test_treasure_hunter_keeps_only_20_step_walkthroughs(tmp_path, monkeypatch):
    lengths = {1: 9, 2: 20, 3: 17, 4: 20}

    def fake_make(task, seed, folder):
        stem = folder / task / tw_games.game_stem(task, seed)
        stem.parent.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".z8").write_bytes(b"")
        meta = {"metadata": {"walkthrough": ["go east"] * lengths[seed]}}
        stem.with_suffix(".json").write_text(json.dumps(meta))
        return stem.with_suffix(".z8")

    monkeypatch.setattr(tw_games, "make_game", fake_make)
    made = tw_games.generate(tmp_path, games=2, tasks=["treasure_hunter"])
    assert [p.name for p in made["treasure_hunter"]] == ["seed_2.z8", "seed_4.z8"]
    assert not (tmp_path / "treasure_hunter" / "seed_1.z8").exists()
    assert (tmp_path / "treasure_hunter" / ".rejected_seed_1").exists()


@pytest.mark.parametrize("task", ["treasure_hunter", "the_cooking_game", "coin_collector"])
def test_env_plays_a_game_to_its_end(task, games_dir):
    env = make_env("textworld", task, image=True, games_dir=str(games_dir), max_steps=4)
    assert env.accepts_any_action and "anything at all" in env.language_action_space
    assert env.default_action == "help"
    assert env.instruction_prompt().startswith("You are an agent playing TextWorld")
    obs, info = env.reset(seed=3)
    assert obs.image is None and obs.long_term_context
    objective = env._infos["objective"]
    assert objective not in obs.long_term_context
    again, _ = make_env("textworld", task, image=False, games_dir=str(games_dir)).reset(seed=3)
    assert again.long_term_context == obs.long_term_context
    ends = [env.step(command)[2:4] for command in ["look", "xyzzy", "go north", "inventory"]]
    assert ends[-1] in [(True, False), (False, True)]
    assert env.stats()["progression"] == 0.0  # cut before the game ended


def test_game_choice_is_seed_mod_n(tmp_path):
    for name in ("b.z8", "a.z8", "c.ulx"):
        (tmp_path / "x" / "coin_collector").mkdir(parents=True, exist_ok=True)
        (tmp_path / "x" / "coin_collector" / name).write_bytes(b"")
    playable, glulx = find_games(tmp_path, "coin_collector")
    assert [p.name for p in playable] == ["a.z8", "b.z8"] and [p.name for p in glulx] == ["c.ulx"]
    env = make_env("textworld", "coin_collector", image=False, games_dir=str(tmp_path))
    assert env.games[5 % 2].name == "b.z8"
    fixed = make_env("textworld", "coin_collector", image=False, seed=4, games_dir=str(tmp_path))
    assert fixed.seed == 4


def test_missing_games_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("VLDAC_TW_GAMES", raising=False)
    with pytest.raises(FileNotFoundError, match="games_dir"):
        make_env("textworld", "coin_collector", image=False)
    (tmp_path / "coin_collector").mkdir()
    (tmp_path / "coin_collector" / "old.ulx").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"TextWorld < 1\.7"):
        make_env("textworld", "coin_collector", image=False, games_dir=str(tmp_path))


def test_objective_filter_by_hand():
    text = "Welcome!\nGet the coin.\n\n-= Hall =-\nA hall."
    assert filter_objective(text, "Get the coin.") == "-= Hall =-\nA hall."
    assert filter_objective("-= Hall =-", "Get the coin.") == "-= Hall =-"


def test_walkthrough_wins_and_sets_progression_to_one(games_dir):
    env = make_env("textworld", "coin_collector", image=False, games_dir=str(games_dir))
    game = env.games[0]
    walkthrough = json.loads(game.with_suffix(".json").read_text())["metadata"]["walkthrough"]
    env.reset(seed=0)
    for command in walkthrough:
        _, _, terminated, truncated, info = env.step(command)
    assert terminated and not truncated and info["won"]
    assert env.stats()["progression"] == 1.0
