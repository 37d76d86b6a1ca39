"""Config validation: every mistake is one sentence naming the key and what is allowed."""

import subprocess
import sys

import pytest

from vldac.config import Config, ConfigError, from_dict, load_config, presets


def test_defaults_are_the_papers_table_6():
    cfg = Config()
    assert (cfg.train.lr, cfg.train.end_lr, cfg.algo.value_coef, cfg.algo.kl_coef) == (
        5e-5, 1e-7, 0.15, 0.05)
    assert (cfg.algo.warmup_updates, cfg.train.grad_accum_steps, cfg.train.mini_batch_size,
            cfg.train.ppo_epochs, cfg.train.total_env_steps) == (2, 128, 1, 2, 51_200)


def test_the_shipped_config_yaml_and_presets_load():
    assert load_config("config.yaml").train.total_env_steps == 51_200
    for name in presets():
        load_config("config.yaml", [name])
    official = load_config("config.yaml", ["official"])
    assert official.algo.truncation == "zero_advantage" and not official.rollout.do_sample
    rl4vlm = load_config("config.yaml", ["rl4vlm"]).algo
    assert (rl4vlm.name, rl4vlm.value_stop_grad, rl4vlm.kl_coef) == ("rl4vlm", False, 0.0)
    loop = load_config("config.yaml", ["demo", "loop"])  # demo's 16 envs: 4 groups of 4
    assert (loop.algo.name, loop.algo.warmup_updates) == ("loop", 0)


@pytest.mark.parametrize("data, words", [
    ({"train": {"lrr": 1e-5}}, ["unknown config key train.lrr", "did you mean train.lr"]),
    ({"algo": {"truncation": "cut"}}, ["algo.truncation", "bootstrap", "zero_advantage"]),
    ({"env": {"name": "gym_cards/Nope"}}, ["env.name", "gym_cards/NumberLine-v0"]),
    ({"train": {"ppo_epochs": 0}}, ["train.ppo_epochs", "positive integer"]),
    ({"algo": {"gamma": 1.5}}, ["algo.gamma", "[0, 1]"]),
    ({"rollout": {"do_sample": "yes"}}, ["rollout.do_sample", "true or false"]),
    ({"model": {"dtype": "fp16"}}, ["model.dtype", "auto, float32, bfloat16"]),
    ({"bogus": 1}, ["unknown config key bogus"]),
])
def test_bad_keys_and_values_are_named(data, words):
    with pytest.raises(ConfigError) as err:
        from_dict(data)
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_set_overrides_win_and_are_typed():
    cfg = load_config("config.yaml", ["demo"], ["train.lr=0.5", "algo.value_clip_eps=null"])
    assert cfg.train.lr == 0.5 and cfg.algo.value_clip_eps is None
    assert cfg.model.path == "tiny:qwen2_vl@probe/ColorMatch"


def test_cli_reports_a_bad_key_in_one_line_before_starting(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "vldac.cli", "train", "--config", "config.yaml",
                           "--set", "train.bogus=1"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "train.bogus" in proc.stderr
    assert "Traceback" not in proc.stderr
