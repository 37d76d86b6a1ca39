import pytest

from vldac.config import from_dict


def small_config(tmp_path, **sections):
    """A tiny, fast training config (overrides merge per section)."""
    base = {
        "seed": 1,
        "output_dir": str(tmp_path / "run"),
        "model": {"path": "tiny:qwen2_vl", "value_head": [32],
                  "lora": {"r": 4, "alpha": 8, "dropout": 0.0}},
        "env": {"name": "gym_cards/NumberLine-v0", "num_envs": 4, "num_workers": 0},
        "rollout": {"steps_per_env": 3, "max_new_tokens": 6},
        "algo": {"warmup_updates": 1},
        "train": {"total_env_steps": 24, "lr": 1e-2, "end_lr": 1e-3, "mini_batch_size": 4,
                  "grad_accum_steps": 1, "checkpoint_every": 1},
        "log": {"dvclive": False, "progress": False},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return from_dict(base)


@pytest.fixture
def make_config(tmp_path):
    return lambda **sections: small_config(tmp_path, **sections)


@pytest.fixture(scope="session")
def config_factory():
    """:func:`small_config` itself, for fixtures of a wider scope than one test."""
    return small_config
