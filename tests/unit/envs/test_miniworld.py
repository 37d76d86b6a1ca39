"""MiniWorld: determinism, the expert, invalid answers, sizes, task ids, display selection,
and a short training smoke run."""

import importlib.util
import os
import random
import subprocess
import sys

import pytest

# Not pytest.importorskip: importing miniworld here would fix pyglet's platform before the
# env chooses its display (see vldac.envs.miniworld.display), so only look for the package.
if importlib.util.find_spec("miniworld") is None:
    pytest.skip("miniworld is not installed: pip install 'vldac[miniworld]'",
                allow_module_level=True)

import yaml  # noqa: E402

from vldac.envs import make  # noqa: E402
from vldac.envs.miniworld import display  # noqa: E402

PAPER_TASKS = ["Hallway-v0", "OneRoom-v0", "FourRooms-v0", "WallGap-v0"]
# MiniWorld's own step limits, which scale its time-discounted reward.
INTERNAL_LIMIT = {"Hallway-v0": 250, "OneRoom-v0": 180, "FourRooms-v0": 250, "WallGap-v0": 300}
TEXTS = ['{"thoughts": "ahead", "action": 2}', "no idea", "1", '{"action": "3"}', "turn",
         '{"action": 0}', "2", "2", "9"] * 3


def answer(action: str) -> str:
    return f'{{"thoughts": "t", "action": {action}}}'


@pytest.fixture(scope="module")
def envs():
    """One env per paper task, shared by the tests (MiniWorld loads textures once each)."""
    made = {}

    def get(task: str, **kwargs):
        key = (task, tuple(sorted(kwargs.items())))
        if key not in made:
            made[key] = make(f"miniworld/{task}", **kwargs)
        return made[key]

    yield get
    for env in made.values():
        env.close()


def rollout(env, seed: int):
    obs = env.reset(seed)
    frames, rewards, infos = [obs.images[0].tobytes()], [], []
    for text in TEXTS:
        result = env.step(text)
        frames.append(result.observation.images[0].tobytes())
        rewards.append(result.reward)
        infos.append(result.info)
        if result.terminated or result.truncated:
            break
    return frames, rewards, infos


def test_same_seed_gives_the_same_episode_and_replays_exactly(envs):
    env = envs("OneRoom-v0")
    first = rollout(env, 11)
    rollout(env, 12)  # another episode in between must not leak into the replay
    assert rollout(env, 11) == first
    assert rollout(envs("OneRoom-v0", invalid_action="random"), 11) == first
    assert first[0][0] != rollout(env, 12)[0][0]
    for info in first[2]:
        assert {"success", "action_is_valid", "parse_failed", "action"} <= set(info)


@pytest.mark.parametrize("task", PAPER_TASKS)
def test_expert_reaches_the_red_box(envs, task):
    env = envs(task)
    for seed in range(3):
        env.reset(seed)
        rewards = []
        while True:
            result = env.step(answer(env.expert_action()))
            rewards.append(result.reward)
            if result.terminated or result.truncated:
                break
        assert result.terminated and result.info["success"], (task, seed)
        steps = len(rewards)
        assert rewards[-1] == pytest.approx(1 - 0.2 * steps / INTERNAL_LIMIT[task])
        assert all(r == 0.0 for r in rewards[:-1])


def test_random_play_mostly_fails_and_truncates_at_128_steps(envs):
    env = envs("OneRoom-v0")
    rng = random.Random(0)
    wins = 0
    for seed in range(6):
        env.reset(seed)
        steps = 0
        while True:
            result = env.step(str(rng.randrange(4)))
            steps += 1
            if result.terminated or result.truncated:
                break
        wins += result.info["success"]
        if not result.info["success"]:
            assert (steps, result.truncated, result.reward) == (128, True, 0.0)
    assert wins <= 2


def test_prompt_and_frame(envs):
    env = envs("Hallway-v0")
    obs = env.reset(0)
    assert "TASK: go to the red box." in obs.text and "starting state" in obs.text
    for line in ("0: turn left", "1: turn right", "2: move forward", "3: move back"):
        assert line in obs.text
    assert (obs.images[0].mode, obs.images[0].size) == ("RGB", (80, 60))
    result = env.step(answer(2))
    assert "after 1 previous actions" in result.observation.text
    assert (result.info["action"], result.info["action_is_valid"]) == ("2", True)


def test_unreadable_answer_under_random_and_penalty(envs):
    env = envs("OneRoom-v0")
    assert env.invalid_action == "random"
    env.reset(3)
    result = env.step("I will look around")
    assert result.info["parse_failed"] and not result.info["action_is_valid"]
    assert result.info["action"] in {"0", "1", "2", "3"}
    env = envs("OneRoom-v0", invalid_action="penalty")
    before = env.reset(3).images[0].tobytes()
    result = env.step("9")  # a number that is no action is unreadable too
    assert (result.reward, result.terminated, result.info["action"]) == (-1.0, False, None)
    assert result.info["parse_failed"] and result.observation.images[0].tobytes() == before
    assert env._sim.step_count == env.episode_steps == 1  # MiniWorld's clock ran as well


def test_observation_size_is_configurable(envs):
    env = envs("OneRoom-v0", obs_width=224, obs_height=224)
    assert env.reset(0).images[0].size == (224, 224)
    with pytest.raises(ValueError, match="obs_width"):
        make("miniworld/OneRoom-v0", obs_width=0)


def test_any_task_by_id_and_unknown_ids():
    env = make("miniworld/Task", task_id="MiniWorld-TMaze-v0", task="find the box")
    try:
        obs = env.reset(0)
        assert "TASK: find the box." in obs.text and env.name == "miniworld/MiniWorld-TMaze-v0"
        assert env.step(answer(env.expert_action())).info["action_is_valid"]
    finally:
        env.close()
    assert env._sim is None  # close() released the simulator
    env.close()  # and a second close is harmless
    with pytest.raises(ValueError, match="MiniWorld-OneRoom-v0"):
        make("miniworld/Task", task_id="MiniWorld-Nowhere-v0")
    with pytest.raises(ValueError, match="actions"):
        make("miniworld/Task", actions="some")


def test_display_selection_errors(monkeypatch):
    with pytest.raises(ValueError, match="auto"):
        display.select_display("wayland")
    # This process already renders through one backend; asking for the other must fail.
    active = display.select_display("auto")
    other = "xvfb" if active == "egl" else "egl"
    with pytest.raises(RuntimeError, match="fresh process"):
        display.select_display(other)
    # A fresh process where neither backend works gets one sentence naming what to install.
    monkeypatch.setattr(display, "_active", None)
    monkeypatch.setattr(display, "_fixed_backend", lambda: None)
    monkeypatch.setattr(display, "_BACKENDS", {"egl": lambda: "no EGL device",
                                               "xvfb": lambda: "Xvfb is not installed"})
    with pytest.raises(display.DisplayUnavailableError) as err:
        display.select_display("auto")
    message = str(err.value)
    for needle in ("egl: no EGL device", "xvfb: Xvfb is not installed",
                   "libegl1 libegl-mesa0 libgl1-mesa-dri", "xvfb"):
        assert needle in message


def test_xvfb_fallback_renders_the_same_frames(envs):
    """A fresh process without a screen starts its own Xvfb; X and EGL draw identical frames."""
    code = ("from vldac.envs import make\n"
            "env = make('miniworld/OneRoom-v0', display='xvfb')\n"
            "obs = env.reset(5)\n"
            "frame = env.step('2').observation.images[0]\n"
            "import os, sys; print(os.environ['DISPLAY'], frame.tobytes().hex())\n")
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300, check=True)
    server, frame = done.stdout.splitlines()[-1].split()  # MiniWorld prints notes too
    assert server.startswith(":")
    egl = envs("OneRoom-v0")
    egl.reset(5)
    assert bytes.fromhex(frame) == egl.step("2").observation.images[0].tobytes()


def test_train_smoke_in_miniworld(tmp_path):
    """`vldac train` with the tiny model: two updates on OneRoom, env in a spawned worker."""
    from vldac.cli import main

    config = {
        "seed": 1, "output_dir": str(tmp_path / "run"),
        "model": {"path": "tiny:qwen2_vl", "value_head": [32],
                  "lora": {"r": 4, "alpha": 8, "dropout": 0.0}},
        "env": {"name": "miniworld/OneRoom-v0", "num_envs": 2, "num_workers": 1, "history": 2},
        "rollout": {"steps_per_env": 2, "max_new_tokens": 6},
        "algo": {"warmup_updates": 1},
        "train": {"total_env_steps": 8, "lr": 1e-2, "end_lr": 1e-3, "mini_batch_size": 4,
                  "grad_accum_steps": 1, "checkpoint_every": 1},
        "log": {"dvclive": False, "progress": False},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["train", "--config", str(path)]) == 0
    assert any((tmp_path / "run").rglob("*.safetensors"))
