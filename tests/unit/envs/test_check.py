"""`vldac env check`: the simulator health check the DAG's simulator stage runs."""

import json

import pytest
from PIL import Image

from vldac.cli import main
from vldac.envs import Observation, StepResult, make, registry
from vldac.envs.base import Env
from vldac.envs.check import check_env, parse_env_kwargs

BUILT_IN = ["gym_cards/NumberLine-v0", "gym_cards/EZPoints-v0", "gym_cards/Points24-v0",
            "gym_cards/Blackjack-v0", "probe/ColorMatch"]


class OpenTextEnv(Env):
    """An open-action env: wins when told 'open door'; records what it was told."""

    name = "test/OpenText"
    max_episode_steps = 3

    def __init__(self, expert="open door", hook=None, crash=False):
        self.expert, self.hook, self.crash, self.told = expert, hook, crash, []
        if hook is not None:
            self.admissible_actions = lambda: list(hook)

    def reset(self, seed):
        self.t = 0
        return self.observe()

    def observe(self):
        return Observation("You see a door. Say 'open door'.", [Image.new("RGB", (8, 8), "red")])

    def step(self, text):
        if self.crash:
            raise RuntimeError("simulator died")
        self.told.append(json.loads(text)["action"])
        self.t += 1
        won = self.told[-1] == "open door"
        info = {"success": won, "action_is_valid": True, "parse_failed": False,
                "action": self.told[-1]}
        return StepResult(self.observe(), float(won), won, self.t >= 3 and not won, info)

    def expert_action(self):
        return self.expert


def use_env(monkeypatch, env):
    monkeypatch.setattr("vldac.envs.check.make", lambda name, **kwargs: env)


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_envs_pass_and_write_their_files(name, tmp_path, capsys):
    assert main(["env", "check", name, "--steps", "30", "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "random" in table and "expert" in table and "steps/s" in table
    stem = tmp_path / f"{name.replace('/', '_')}-seed0"
    result = json.loads(stem.with_suffix(".json").read_text())
    assert result["env"] == name and result["passed"] and result["random"]["steps"] == 30
    assert result["expert"]["successes"] >= 1 and result["random"]["steps_per_s"] > 0
    assert result["image"] == str(stem.with_suffix(".png"))
    assert result["versions"]["vldac"] and result["versions"]["pillow"]
    # The saved frame and prompt are the env's own observation at the check's seed.
    obs = make(name).reset(0)
    assert Image.open(result["image"]).tobytes() == obs.images[0].convert("RGB").tobytes()
    assert stem.with_suffix(".txt").read_text() == obs.text + "\n"


def test_env_kwargs_reach_the_env(tmp_path):
    result = check_env("probe/ColorMatch", steps=2, out=tmp_path, size=16, noise=False)
    assert Image.open(result.image).size == (16, 16)
    assert result.kwargs == {"size": 16, "noise": False}


def test_set_values_are_yaml_scalars():
    assert parse_env_kwargs(["size=64", "noise=false", "mode=text", "x=0.5"]) == {
        "size": 64, "noise": False, "mode": "text", "x": 0.5}
    with pytest.raises(ValueError, match="key=value"):
        parse_env_kwargs(["size"])


def test_random_policy_uses_admissible_actions_hook(monkeypatch, tmp_path):
    env = OpenTextEnv(hook=["look", "go north"])
    use_env(monkeypatch, env)
    result = check_env("test/OpenText", steps=12, expert_episodes=1, out=tmp_path)
    random_told = env.told[:12]
    assert set(random_told) == {"look", "go north"}
    assert result.random.episodes == 4 and result.passed


def test_random_policy_without_actions_answers_words_of_the_prompt(monkeypatch, tmp_path):
    env = OpenTextEnv()
    use_env(monkeypatch, env)
    check_env("test/OpenText", steps=20, expert_episodes=1, out=tmp_path)
    prompt_words = set("You see a door Say open door".split())
    assert all(1 <= len(told.split()) <= 3 for told in env.told[:20])
    assert all(set(told.split()) <= prompt_words for told in env.told[:20])


def test_failing_expert_exits_1_with_one_sentence(monkeypatch, tmp_path, capsys):
    use_env(monkeypatch, OpenTextEnv(expert="wait"))
    assert main(["env", "check", "test/OpenText", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "expert won none of its 5" in err
    result = json.loads((tmp_path / "test_OpenText-seed0.json").read_text())
    assert result["passed"] is False and result["expert"]["success_rate"] == 0.0


def test_crashing_simulator_exits_1_and_keeps_the_traceback(monkeypatch, tmp_path, capsys):
    use_env(monkeypatch, OpenTextEnv(crash=True))
    assert main(["env", "check", "test/OpenText", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "RuntimeError: simulator died" in err
    result = json.loads((tmp_path / "test_OpenText-seed0.json").read_text())
    assert "Traceback" in result["error"]


def test_missing_extra_exits_2_naming_it_without_traceback(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(registry._REGISTRY, "test/Missing",
                        registry._Entry("no_such_simulator_pkg.env:Env", "nosim"))
    assert main(["env", "check", "test/Missing", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install 'vldac[nosim]'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["nope/Env"], ["probe/ColorMatch", "--set", "bogus=1"],
                                  ["probe/ColorMatch", "--steps", "-1"]])
def test_bad_names_and_arguments_exit_2(argv, tmp_path, capsys):
    assert main(["env", "check", *argv, "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("vldac: error: ")


def test_no_finished_episode_is_null_in_json_and_dash_in_table(monkeypatch, tmp_path, capsys):
    use_env(monkeypatch, OpenTextEnv(hook=["look"]))
    assert main(["env", "check", "test/OpenText", "--steps", "2", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[3] == "-"
    text = (tmp_path / "test_OpenText-seed0.json").read_text()
    assert "NaN" not in text and json.loads(text)["random"]["success_rate"] is None


def test_env_that_fails_to_start_exits_1_with_one_sentence(monkeypatch, tmp_path, capsys):
    def broken(name, **kwargs):
        raise RuntimeError("could not open an OpenGL context; install libegl1.")

    monkeypatch.setattr("vldac.envs.check.make", broken)
    assert main(["env", "check", "test/OpenText", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.endswith("install libegl1.")
    assert json.loads((tmp_path / "test_OpenText-seed0.json").read_text())["image"] is None
