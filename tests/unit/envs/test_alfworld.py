"""ALFWorld: generated games, the env contract, the expert, rewards, invalid answers, THOR mode.

Games are generated once per session into a tmp folder, in rooms shrunk to 6 receptacles so
that the TextWorld engine stays fast on two cores.
"""

import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("alfworld", reason="ALFWorld tests need the alfworld extra: "
                                       "pip install 'vldac[alfworld]'")

from vldac.envs import make  # noqa: E402
from vldac.envs.alfworld.generate import generate_games, main  # noqa: E402
from vldac.envs.alfworld.tasks import TASK_TYPES  # noqa: E402

NAME = "alfworld/AlfredTWEnv-v0"
GEN = {"num": 6, "num_eval": 1, "seed": 0, "max_receptacles": 6}


def answer(command: str) -> str:
    return json.dumps({"thoughts": "t", "action": command})


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    return generate_games(tmp_path_factory.mktemp("alfworld") / "games", **GEN)


def games(root: Path, split: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "json_2.1.1" / split).rglob(
        "traj_data.json"))]


def test_generator_writes_solvable_games_of_all_six_types_in_disjoint_splits(data_dir):
    train = games(data_dir, "train")
    assert sorted(g["task_type"] for g in train) == sorted(TASK_TYPES)
    problems = {}
    for split in ("train", "valid_seen", "valid_unseen"):
        for game_file in (data_dir / "json_2.1.1" / split).rglob("game.tw-pddl"):
            game = json.loads(game_file.read_text())
            assert game["solvable"] and game["walkthrough"]
            problems.setdefault(split, set()).add(game["pddl_problem"])
    assert len(problems["valid_seen"]) == len(problems["valid_unseen"]) == 1
    assert not (problems["train"] & problems["valid_seen"])
    assert not (problems["train"] | problems["valid_seen"]) & problems["valid_unseen"]
    # valid_unseen uses only ALFRED's held-out floor plans; train never does.
    held_out = {*range(1, 7), *range(201, 207), *range(301, 307), *range(401, 407)}
    assert all(g["scene"]["scene_num"] in held_out for g in games(data_dir, "valid_unseen"))
    assert not any(g["scene"]["scene_num"] in held_out for g in train)


def test_generation_is_cached_deterministic_and_never_overwrites(data_dir, tmp_path):
    before = {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}
    assert generate_games(data_dir, **GEN) == data_dir  # same arguments: reused, untouched
    assert {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()} == before
    with pytest.raises(FileExistsError, match="another --out"):
        generate_games(data_dir, **{**GEN, "seed": 1})
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert main(["--out", str(tmp_path / "mine"), "--num", "1", "--num-eval", "0"]) == 2
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
    again = generate_games(tmp_path / "again", **{**GEN, "num": 2, "num_eval": 0})
    first = sorted((p.name, p.read_bytes()) for p in again.rglob("*.tw-pddl"))
    assert first == sorted((p.name, p.read_bytes()) for p in data_dir.rglob("*.tw-pddl")
                           if "train" in str(p) and p.parent.name.split("_")[2] in ("00000",
                                                                                    "00001"))


def test_same_seed_and_texts_replay_the_same_episode(data_dir):
    env = make(NAME, data_dir=str(data_dir), render_text_image=True)
    texts = ["nonsense", answer("look"), answer("inventory")]

    def play(seed):
        obs = env.reset(seed)
        out = [(obs.text, obs.images[0].tobytes())]
        rng = random.Random(7)
        for text in texts + [answer(c) for c in [None] * 4]:
            if text == answer(None):
                text = answer(rng.choice(env.admissible_commands))
            r = env.step(text)
            out.append((r.observation.text, r.observation.images[0].tobytes(), r.reward,
                        r.info["action"]))
            if r.terminated or r.truncated:
                break
        return out

    assert play(3) == play(3)
    assert len({env.reset(s).text for s in range(8)}) > 1
    env.close()


def test_expert_wins_every_game_and_random_play_mostly_fails(data_dir):
    env = make(NAME, data_dir=str(data_dir))
    # One seed per game: reset(seed) picks game Random(seed).randrange(number of games).
    seeds = {}
    for seed in range(500):
        seeds.setdefault(random.Random(seed).randrange(len(env.games)), seed)
    assert len(seeds) == len(env.games) == 6
    for seed in seeds.values():
        env.reset(seed)
        result = None
        while result is None or not (result.terminated or result.truncated):
            result = env.step(answer(env.expert_action()))
        assert result.terminated and result.info["success"] and result.info["won"]
        assert result.info["goal_condition_success_rate"] == 1.0
        assert result.reward == 2.0  # won (weight 1) + all goal conditions, legal action
    rng, wins = random.Random(0), 0
    short = make(NAME, data_dir=str(data_dir), max_episode_steps=15, expert=None)
    for seed in range(4):
        short.reset(seed)
        while True:
            result = short.step(answer(rng.choice(short.admissible_commands)))
            if result.terminated or result.truncated:
                wins += result.info["success"]
                break
    assert wins <= 1
    env.close()
    short.close()


def test_reward_rule_and_won_weight(data_dir):
    env = make(NAME, data_dir=str(data_dir), won_weight=50.0)
    env.reset(0)
    rewards = []
    while True:
        r = env.step(answer(env.expert_action()))
        rewards.append((r.reward, r.info["won"], r.info["goal_condition_success_rate"]))
        if r.terminated:
            break
    for reward, won, gc in rewards:
        assert reward == pytest.approx(50.0 * won + gc)
    assert rewards[-1][0] == pytest.approx(51.0)
    env.close()


def test_invalid_answers_under_penalty_and_random(data_dir):
    env = make(NAME, data_dir=str(data_dir), max_episode_steps=3)
    assert env.invalid_action == "penalty"
    obs = env.reset(1)
    r = env.step("I will think about it")
    assert r.reward == -1.0 and r.info["parse_failed"] and not r.info["action_is_valid"]
    assert r.info["action"] is None and "Nothing happens." in r.observation.text
    assert r.observation.text.split("Your task")[1] == obs.text.split("Your task")[1]
    r = env.step(answer("fly to the moon"))
    assert r.reward == -1.0 and not r.info["parse_failed"] and not r.info["action_is_valid"]
    r = env.step(answer("look"))
    assert r.truncated and r.info["action_is_valid"] and r.reward == 0.0
    with pytest.raises(RuntimeError):
        env.step(answer("look"))
    env = make(NAME, data_dir=str(data_dir), invalid_action="random")
    env.reset(1)
    admissible = env.admissible_commands
    r = env.step("???")
    assert r.info["action"] in admissible and r.info["parse_failed"]
    assert not r.info["action_is_valid"] and r.reward <= 0.0
    with pytest.raises(ValueError, match="invalid_action"):
        make(NAME, data_dir=str(data_dir), invalid_action="skip")


def test_action_matching_prefers_the_whole_command(data_dir):
    env = make(NAME, data_dir=str(data_dir))
    env.reset(2)
    target = next(c for c in env.admissible_commands if c.startswith("go to"))
    r = env.step(f'```json\n{{"thoughts": "x", "action": "I will {target}."}}\n```')
    assert r.info["action"] == target and r.info["action_is_valid"]


def test_text_image_rendering(data_dir):
    env = make(NAME, data_dir=str(data_dir), render_text_image=True, image_size=224)
    image = env.reset(0).images[0]
    assert (image.mode, image.size) == ("RGB", (224, 224))
    assert image.getextrema() != ((255, 255),) * 3  # text was drawn
    assert make(NAME, data_dir=str(data_dir)).reset(0).images == []


def test_thor_mode_without_its_dependencies_is_one_clear_error(data_dir):
    if importlib.util.find_spec("ai2thor") is not None:
        pytest.skip("ai2thor is installed here")
    with pytest.raises(ImportError, match=r"pip install 'vldac\[alfworld-thor\]'"):
        make(NAME, data_dir=str(data_dir), mode="thor")


def _children() -> set[str]:
    me = str(os.getpid())
    children = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines()
                          if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == me:
            children.add(status.parent.name)
    return children


def test_close_leaves_no_child_processes(data_dir):
    before = _children()  # e.g. multiprocessing's resource tracker from earlier tests
    env = make(NAME, data_dir=str(data_dir))
    env.reset(0)
    env.step(answer(env.expert_action()))
    env.close()
    assert _children() - before == set()


def test_train_smoke_with_the_tiny_model(data_dir, tmp_path):
    import yaml

    from vldac.cli import main as vldac

    config = {
        "seed": 1, "output_dir": str(tmp_path / "run"),
        "model": {"path": "tiny:qwen2_vl", "value_head": [32],
                  "lora": {"r": 4, "alpha": 8, "dropout": 0.0}},
        "env": {"name": NAME, "num_envs": 2, "num_workers": 0,
                "kwargs": {"data_dir": str(data_dir), "render_text_image": True,
                           "image_size": 64, "expert": None}},
        "rollout": {"steps_per_env": 2, "max_new_tokens": 6},
        "algo": {"warmup_updates": 1},
        "train": {"total_env_steps": 4, "lr": 1e-2, "end_lr": 1e-3, "mini_batch_size": 2,
                  "grad_accum_steps": 1, "checkpoint_every": 1},
        "log": {"dvclive": False, "progress": False}}
    path = tmp_path / "alfworld.yaml"
    path.write_text(yaml.safe_dump(config))
    assert vldac(["train", "--config", str(path)]) in (0, None)
    rows = [json.loads(line) for line in
            (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 1
    # The tiny random model writes no admissible command: every step costs -1 and counts.
    assert all(row["rollout/invalid_action_rate"] > 0.5 for row in rows)


def test_the_env_imports_no_model_libraries(data_dir):
    code = (
        "import sys\n"
        "from vldac.envs import make\n"
        f"env = make('alfworld/AlfredTWEnv-v0', data_dir={str(data_dir)!r})\n"
        "env.reset(0)\n"
        "env.step('{\"action\": \"look\"}')\n"
        "heavy = [m for m in ('torch', 'transformers', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
