"""The BALROG runner: BALROG's layout and summary, an oracle's full marks, the real worlds."""

import functools
import importlib
import json
import os

import pytest
from PIL import Image

from vldac.errors import RunExistsError
from vldac.eval.balrog.base import BalrogEnv, BalrogObservation
from vldac.eval.balrog.runner import episode_seed, run_balrog

SUMMARY_KEYS = {"benchmark", "agent", "mode", "model", "seed", "average_progression",
                "standard_error", "environments", "missing", "settings"}
RECORD_KEYS = {"task", "action_frequency", "input_tokens", "output_tokens", "done",
               "episode_return", "num_steps", "failed_candidates", "progression", "seed",
               "agent", "client"}


class Corridor(BalrogEnv):
    """Walk right to a goal 2-4 cells away (seeded); reaching it is full progression."""

    language_action_space = ["walk left", "walk right", "wait"]
    default_action = "wait"

    def __init__(self, env_name, task, *, image, seed=None, max_steps=None):
        self.env_name, self.task, self.image = env_name, task, image
        self.max_steps = max_steps or 8
        self.closed = False

    def instruction_prompt(self):
        return f"Reach the goal in {self.task}. Actions: walk left, walk right, wait.\nPLAY!"

    def _obs(self):
        text = f"The goal is {self.goal - self.pos} steps to your right."
        frame = Image.new("RGB", (8, 8), (30 * self.pos, 0, 0)) if self.image else None
        return BalrogObservation(text, f"position {self.pos}", frame)

    def reset(self, seed):
        self.pos, self.goal, self.reached, self.steps = 0, 2 + seed % 3, False, 0
        return self._obs(), {}

    def step(self, action):
        assert action in self.language_action_space
        self.steps += 1
        self.pos += {"walk left": -1, "walk right": 1, "wait": 0}[action]
        self.reached = self.pos == self.goal
        return self._obs(), float(self.reached), self.reached, self.steps >= self.max_steps, {}

    def stats(self):
        return {"progression": 1.0 if self.reached else 0.0, "goal": self.goal}

    def close(self):
        self.closed = True


class Scripted:
    """A chat model that answers from the prompt: walks right (oracle) or babbles."""

    path = "scripted"

    def __init__(self, answer):
        self.answer, self.prompts = answer, []

    def generate(self, conversations, *, max_new_tokens, temperature=0.0, seed=None):
        self.prompts.append(conversations)
        return [self.answer for _ in conversations]


def _run(tmp_path, model, name="out", **kwargs):
    kwargs = {"envs": ["corridor", "hallway"],
              "tasks": {"corridor": ["short", "long"], "hallway": ["only"]},
              "episodes": 3, "make_env": Corridor, "progress": False, **kwargs}
    return run_balrog(model, out_dir=tmp_path / name, **kwargs)


def test_an_oracle_gets_full_marks_and_balrogs_layout_is_written(tmp_path):
    summary = _run(tmp_path, Scripted("walk right"), batch_size=2, seed=5)
    assert set(summary) == SUMMARY_KEYS
    assert (summary["average_progression"], summary["standard_error"]) == (100.0, 0.0)
    assert summary["environments"]["corridor"]["episodes"] == 6
    assert summary["environments"]["corridor"]["tasks"]["long"] == {
        "progression": 100.0, "standard_error": 0.0, "episodes": 3}
    assert summary["mode"] == "image" and summary["settings"]["max_image_history"] == 1
    out = tmp_path / "out"
    assert json.loads((out / "summary.json").read_text()) == summary
    env_summary = json.loads((out / "corridor" / "corridor_summary.json").read_text())
    assert env_summary["progression_percentage"] == 100.0 and env_summary["episodes_played"] == 6
    for k in range(3):
        record = json.loads((out / "hallway" / "only" / f"only_run_{k:02d}.json").read_text())
        assert RECORD_KEYS <= set(record)
        assert record["seed"] == episode_seed(5, "hallway", "only", k)
        assert record["num_steps"] == 2 + record["seed"] % 3 == record["action_frequency"][
            "walk right"]
        assert record["done"] and record["failed_candidates"] == []
        assert (out / "hallway" / "only" / f"only_run_{k:02d}.csv").is_file()


def test_invalid_answers_default_get_feedback_and_score_zero(tmp_path):
    model = Scripted("Walk Right!")
    summary = _run(tmp_path, model, agent="cot", image=False, max_steps=3)
    assert summary["average_progression"] == 0.0 and summary["mode"] == "language"
    record = json.loads((tmp_path / "out" / "corridor" / "short" / "short_run_00.json")
                        .read_text())
    assert record["failed_candidates"] == ["Walk Right"] * 3
    assert record["action_frequency"] == {"wait": 3} and record["num_steps"] == 3
    assert record["done"]  # truncation at the step limit counts as done, as in BALROG
    second_prompt = model.prompts[1][0]
    last_text = second_prompt[-1]["content"][0]["text"]
    assert "did not contain a valid action. Defaulted to action: wait" in last_text
    assert all(len(m["content"]) == 1 for m in second_prompt)  # language mode: no images


def test_reruns_replay_the_same_episodes_and_existing_output_is_refused(tmp_path):
    first = _run(tmp_path, Scripted("walk right"), name="a", seed=1)
    again = _run(tmp_path, Scripted("walk right"), name="b", seed=1, batch_size=1)
    for name in ("a", "b"):
        assert (tmp_path / name / "corridor" / "long" / "long_run_02.json").is_file()
    seeds = [json.loads(p.read_text())["seed"] for p in sorted((tmp_path / "a").rglob("*_run_*.json"))]
    seeds_b = [json.loads(p.read_text())["seed"] for p in sorted((tmp_path / "b").rglob("*_run_*.json"))]
    assert seeds == seeds_b and first["environments"] == again["environments"]
    with pytest.raises(RunExistsError, match="already holds files"):
        _run(tmp_path, Scripted("walk right"), name="a")


# ----------------------------------------------------------------------------- real worlds

WORLDS = ("babyai", "crafter", "textworld", "minihack", "nle")


@functools.cache
def _world_task(world):
    """(a BALROG task of ``world``, None) if one can run here, else (None, why not)."""
    try:
        registry = importlib.import_module("vldac.eval.balrog.envs")
        make_env = registry.make_env
    except (ImportError, AttributeError) as err:
        return None, f"the BALROG env registry is not there yet ({err})"
    missing = getattr(registry, "MISSING", {})
    if world in missing or world not in registry.ENVIRONMENTS:
        return None, f"{world} is not available: {missing.get(world, 'not registered')}"
    why = "no tasks"
    for task in registry.TASKS[world]:  # the first task whose simulator and data are here
        try:
            make_env(world, task, image=True, max_steps=2).close()
        except (ImportError, FileNotFoundError) as err:
            why = str(err)
            continue
        return task, None
    return None, f"no {world} task can be built here: {why}"


@pytest.fixture(scope="module")
def tw_games(tmp_path_factory):
    """$VLDAC_TW_GAMES, or one generated coin-collector game (about 5 s) while it is unset."""
    if os.environ.get("VLDAC_TW_GAMES"):
        yield os.environ["VLDAC_TW_GAMES"]
        return
    try:
        from vldac.eval.balrog.envs.tw_games import generate

        folder = tmp_path_factory.mktemp("tw_games")
        generate(folder, games=1, tasks=["coin_collector"])
    except ImportError as err:
        pytest.skip(f"TextWorld is not installed: {err}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VLDAC_TW_GAMES", str(folder))
        yield str(folder)


@pytest.fixture(scope="module")
def chat():
    from vldac.eval.chat import ChatModel

    return ChatModel("tiny:qwen2_vl")


@pytest.mark.parametrize("agent", ["naive", "cot"])
@pytest.mark.parametrize("world", WORLDS)
def test_one_short_episode_per_world_with_the_tiny_model(tmp_path, chat, world, agent, request):
    if world == "textworld":
        request.getfixturevalue("tw_games")
    task, why = _world_task(world)
    if task is None:
        pytest.skip(why)
    summary = run_balrog(chat, envs=[world], tasks=[task], agent=agent, episodes=1,
                         max_steps=2, max_new_tokens=6, temperature=1.0, seed=3,
                         out_dir=tmp_path / "balrog", progress=False)
    assert set(summary) == SUMMARY_KEYS and summary["agent"] == agent
    env = summary["environments"][world]
    assert env["episodes"] == 1 and 0.0 <= env["progression"] <= 100.0
    assert summary["average_progression"] == env["progression"]
    record = json.loads(next((tmp_path / "balrog" / world).rglob("*_run_00.json")).read_text())
    assert RECORD_KEYS <= set(record) and 1 <= record["num_steps"] <= 2
    assert record["task"] == task and record["input_tokens"] > 0
    assert (tmp_path / "balrog" / world / f"{world}_summary.json").is_file()


def test_the_command_line_plays_and_refuses_to_overwrite(tmp_path, capsys):
    import argparse

    from vldac.eval.balrog import cli

    task, why = _world_task("babyai")
    if task is None:
        pytest.skip(why)
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    argv = ["--model", "tiny:qwen2_vl", "--envs", "babyai", "--tasks", task, "--episodes", "2",
            "--max-steps", "2", "--max-new-tokens", "4", "--agent", "cot", "--mode", "language",
            "--out", str(tmp_path / "cli"), "--no-progress"]
    assert cli.run(parser.parse_args(argv)) == 0
    summary = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert summary["mode"] == "language" and summary["environments"]["babyai"]["episodes"] == 2
    assert "babyai:" in capsys.readouterr().out
    assert cli.run(parser.parse_args(argv)) == 2
    assert "already holds files" in capsys.readouterr().err
    unknown = parser.parse_args(["--model", "tiny:qwen2_vl", "--envs", "pong", "--out",
                                 str(tmp_path / "u")])
    assert cli.run(unknown) == 2 and "unknown BALROG environment" in capsys.readouterr().err


def test_default_worlds_tasks_episodes_and_missing_worlds_come_from_the_registry(
        tmp_path, monkeypatch):
    from types import SimpleNamespace

    from vldac.eval.balrog import runner

    registry = SimpleNamespace(
        ENVIRONMENTS=["corridor", "hallway", "babaisai"],
        TASKS={"corridor": ["short", "long"], "hallway": ["only"], "babaisai": ["env/goto_win"]},
        NUM_EPISODES={"corridor": 2, "hallway": 1, "babaisai": 3},
        MAX_STEPS={"corridor": 4, "hallway": None},
        MISSING={"babaisai": "baba is not on PyPI"},
        make_env=Corridor,
    )
    monkeypatch.setattr(runner, "_registry", lambda: registry)
    summary = run_balrog(Scripted("walk right"), out_dir=tmp_path / "all", progress=False)
    assert summary["missing"] == {"babaisai": "baba is not on PyPI"}
    # ... also when the worlds are named: BALROG's average is over its whole suite
    named = run_balrog(Scripted("walk right"), envs=["hallway"], out_dir=tmp_path / "one",
                       progress=False)
    assert named["missing"] == {"babaisai": "baba is not on PyPI"}
    assert summary["settings"]["episodes_per_task"] == {"corridor": {"short": 2, "long": 2},
                                                        "hallway": {"only": 1}}
    # the env's own limit wins over the registry's (a fallback for envs without one)
    assert summary["settings"]["max_steps_used"] == {"corridor": [8], "hallway": [8]}
    only = run_balrog(Scripted("walk right"), tasks=["long"], out_dir=tmp_path / "long",
                      progress=False)
    assert list(only["environments"]) == ["corridor"]
    assert list(only["environments"]["corridor"]["tasks"]) == ["long"]
    with pytest.raises(ValueError, match="unknown BALROG environment"):
        run_balrog(Scripted("x"), envs=["pong"], out_dir=tmp_path / "x", progress=False)
    with pytest.raises(ValueError, match="belong to none of"):
        run_balrog(Scripted("x"), envs=["hallway"], tasks=["short"], out_dir=tmp_path / "y",
                   progress=False)


def test_episode_seeds_are_a_fixed_function_of_seed_env_task_and_index():
    # pinned: changing the derivation would silently change which levels every run plays
    goto = "BabyAI-MixedTrainLocal-v0/goto"
    assert [episode_seed(0, "babyai", goto, i) for i in range(3)] == [
        244886569, 1220912496, 1583355827]
    assert episode_seed(1, "nle", "NetHackChallenge-v0", 0) == 926160360


def test_resume_plays_only_the_missing_episodes_of_the_same_run(tmp_path):
    first = _run(tmp_path, Scripted("walk right"), seed=2)
    out = tmp_path / "out"
    lost = out / "corridor" / "long" / "long_run_01.json"
    kept = out / "hallway" / "only" / "only_run_00.json"
    kept_text = kept.read_text()
    lost.unlink()
    model = Scripted("walk right")
    again = _run(tmp_path, model, seed=2, resume=True)
    assert lost.is_file() and kept.read_text() == kept_text
    # only episode 1 of "long" was played again: one prompt per step of it
    assert sum(len(call) for call in model.prompts) == json.loads(lost.read_text())["num_steps"]
    assert again["environments"] == first["environments"]
    with pytest.raises(RunExistsError, match="other settings"):
        _run(tmp_path, Scripted("walk right"), seed=3, resume=True)
