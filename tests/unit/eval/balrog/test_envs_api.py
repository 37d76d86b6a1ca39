"""BALROG env package: constants, make_env's errors, and the light-import promise."""

import subprocess
import sys

import pytest

from vldac.eval.balrog import envs
from vldac.eval.balrog.envs import _common, make_env


def test_constants_follow_balrog_config():
    assert envs.ENVIRONMENTS == ["babyai", "crafter", "textworld", "minihack", "nle"]
    assert set(envs.TASKS) == set(envs.ENVIRONMENTS)
    assert len(envs.TASKS["babyai"]) == 5 and len(envs.TASKS["minihack"]) == 8
    assert envs.TASKS["crafter"] == ["default"] and envs.TASKS["nle"] == ["NetHackChallenge-v0"]
    assert envs.NUM_EPISODES == {
        "babyai": 10,
        "crafter": 10,
        "textworld": 10,
        "minihack": 5,
        "nle": 5,
    }
    assert envs.MAX_STEPS == {
        "babyai": 128,
        "crafter": 2000,
        "textworld": 80,
        "minihack": 100,
        "nle": 100_000,
    }
    assert "babaisai" in envs.MISSING and "not installable" in envs.MISSING["babaisai"]


def test_unknown_env_lists_the_valid_ones():
    with pytest.raises(ValueError, match="babyai, crafter, textworld, minihack, nle"):
        make_env("procgen", "x", image=False)
    with pytest.raises(ValueError, match="not installable"):
        make_env("babaisai", "env/goto_win", image=False)


def test_unknown_task_lists_the_valid_ones():
    with pytest.raises(ValueError, match="MiniHack-Quest-Easy-v0"):
        make_env("minihack", "MiniHack-River-v0", image=False)


def test_unknown_option_is_refused():
    pytest.importorskip("crafter", reason="crafter is not installed: pip install -e '.[balrog]'")
    with pytest.raises(ValueError, match="Unknown option"):
        make_env("crafter", "default", image=False, colour="red")


def test_missing_simulator_names_the_extra(monkeypatch):
    import importlib

    real = importlib.import_module

    def fake(name, *args, **kwargs):
        if name == "crafter":
            raise ImportError("No module named 'crafter'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(ImportError, match=r"pip install -e '\.\[balrog\]'"):
        _common.require("crafter", "Crafter")


def test_env_modules_import_neither_torch_nor_transformers():
    code = (
        "import sys\n"
        "import vldac.eval.balrog.envs as e\n"
        "import vldac.eval.balrog.envs.babyai, vldac.eval.balrog.envs.crafter\n"
        "import vldac.eval.balrog.envs.textworld, vldac.eval.balrog.envs.minihack\n"
        "import vldac.eval.balrog.envs.nle, vldac.eval.balrog.envs.tw_games\n"
        "print([m for m in ('torch', 'transformers') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_prompt_data_carries_provenance_and_every_world():
    data = _common.prompt_data()
    assert "balrog-ai/BALROG" in data["_provenance"] and "MIT" in data["_provenance"]
    for world in ("babyai", "crafter", "textworld", "minihack", "nle"):
        assert world in data
    assert set(data["textworld"]) == set(envs.TASKS["textworld"])
    assert all(
        text.startswith("You are an agent playing TextWorld") for text in data["textworld"].values()
    )
