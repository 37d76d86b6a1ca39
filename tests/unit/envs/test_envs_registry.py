"""The registry: names, argument checks, lazy imports and the extras hint."""

import subprocess
import sys

import pytest

from vldac.envs import make, registered, registry

EXPECTED = {
    "gym_cards/NumberLine-v0",
    "gym_cards/EZPoints-v0",
    "gym_cards/Points24-v0",
    "gym_cards/Blackjack-v0",
    "probe/ColorMatch",
}


def test_registered_names():
    assert EXPECTED <= set(registered())
    assert registered() == sorted(registered())


def test_unknown_name_lists_the_registered_ones():
    with pytest.raises(ValueError) as err:
        make("gym_cards/Poker-v0")
    for name in registered():
        assert name in str(err.value)


def test_unknown_argument_lists_the_accepted_ones():
    with pytest.raises(ValueError) as err:
        make("gym_cards/Points24-v0", solvable=True)
    message = str(err.value)
    assert "'solvable'" in message
    for accepted in ("solvable_only", "max_episode_steps", "invalid_action"):
        assert accepted in message


def test_arguments_reach_the_env():
    env = make("gym_cards/Points24-v0", solvable_only=False, max_episode_steps=5)
    assert (env.solvable_only, env.max_episode_steps, env.invalid_action) == (False, 5, "random")
    assert make("gym_cards/NumberLine-v0", max_position=8).max_episode_steps == 16


def test_missing_dependency_names_the_extra(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry.register("fake/Heavy-v0", "some_absent_simulator_pkg.envs:HeavyEnv", extra="heavy")
    assert "fake/Heavy-v0" in registered()
    with pytest.raises(ImportError, match=r"vldac\[heavy\]"):
        make("fake/Heavy-v0")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("fake/Heavy-v0", "other.module:Env")
    with pytest.raises(ValueError, match="ClassName"):
        registry.register("fake/Bad-v0", "no_colon_here")


# ALFWorld generates its games on first use (minutes to hours); its own test file checks
# the same property on a small generated set.
NEEDS_DATA = {"alfworld/AlfredTWEnv-v0"}


@pytest.mark.parametrize("name", sorted(set(registered()) - NEEDS_DATA))
def test_making_an_env_imports_no_model_libraries(name):
    code = (
        "import sys\n"
        "import vldac.envs as envs\n"
        "try:\n"
        f"    env = envs.make({name!r})\n"
        "except ImportError as err:\n"
        "    print(err)\n"
        "    sys.exit(77)\n"
        "env.reset(0)\n"
        'env.step(\'{"action": "+"}\')\n'
        "env.close()\n"
        "heavy = [m for m in ('torch', 'transformers', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    if proc.returncode == 77 and registry.extra_of(name) is not None:
        pytest.skip(f"extra {registry.extra_of(name)!r} not installed: {proc.stdout.strip()}")
    assert proc.returncode == 0, proc.stderr[-2000:]
