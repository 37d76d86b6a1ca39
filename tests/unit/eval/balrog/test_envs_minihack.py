"""BALROG MiniHack: the eight tasks, their actions and goals, and Boxoban from level files."""

import random

import pytest

pytest.importorskip("minihack", reason="minihack is not installed: pip install -e '.[balrog]'")

from vldac.eval.balrog.envs import make_env  # noqa: E402
from vldac.eval.balrog.envs.minihack import TASKS, goal_sentence  # noqa: E402

# Two levels in boxoban-levels' text format: "; <n>", ten 10-char rows, a blank line.
LEVEL = [
    "##########",
    "##########",
    "####  ####",
    "#  $ .   #",
    "# @ $ .  #",
    "#        #",
    "#        #",
    "##########",
    "##########",
    "##########",
]


@pytest.fixture(scope="module")
def boxoban_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("boxoban-levels-master")
    text = "".join(f"; {n}\n" + "\n".join(LEVEL) + "\n\n" for n in range(2))
    for sub in ("hard", "medium/train"):
        (root / sub).mkdir(parents=True)
        (root / sub / "000.txt").write_text(text)
    return root


def test_goal_sentence_follows_the_task_name():
    assert goal_sentence("MiniHack-Corridor-R3-v0").startswith("Your goal is to explore the level")
    assert "fight monsters" in goal_sentence("MiniHack-Quest-Easy-v0")
    assert goal_sentence("MiniHack-Boxoban-Hard-v0").startswith("You are playing Boxoban")
    assert goal_sentence("MiniHack-MazeWalk-9x9-v0") == (
        "Your goal is to get as far as possible in the game."
    )


@pytest.mark.parametrize("task", [t for t in TASKS if "Boxoban" not in t])
def test_random_episode_runs_to_its_end(task):
    env = make_env("minihack", task, image=False, max_steps=5)
    assert env.default_action == "north"
    assert env.language_action_space[:8] == [
        "north",
        "east",
        "south",
        "west",
        "northeast",
        "southeast",
        "southwest",
        "northwest",
    ]
    first, _ = env.reset(seed=3)
    again, _ = make_env("minihack", task, image=False).reset(seed=3)
    assert first.long_term_context == again.long_term_context
    assert "map:\n" in first.long_term_context
    rng = random.Random(0)
    for _ in range(5):
        _, _, terminated, truncated, _ = env.step(rng.choice(env.language_action_space))
        if terminated or truncated:
            break
    assert terminated or truncated
    assert env.stats()["progression"] in (0.0, 1.0)
    assert env.instruction_prompt().endswith(goal_sentence(task) + "\n\nPLAY!")


def test_boxoban_without_levels_says_what_to_provide(monkeypatch, tmp_path):
    from pathlib import Path

    import minihack

    if (Path(minihack.__file__).parent / "dat" / "boxoban-levels-master" / "hard").exists():
        pytest.skip("minihack's own Boxoban levels are installed")
    monkeypatch.setenv("VLDAC_BOXOBAN_LEVELS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="boxoban_levels_dir"):
        make_env("minihack", "MiniHack-Boxoban-Hard-v0", image=False)


@pytest.mark.parametrize("task", ["MiniHack-Boxoban-Hard-v0", "MiniHack-Boxoban-Medium-v0"])
def test_boxoban_runs_from_given_level_files(task, boxoban_dir):
    env = make_env("minihack", task, image=True, max_steps=4, boxoban_levels_dir=str(boxoban_dir))
    assert env.language_action_space == ["north", "east", "south", "west"]
    obs, _ = env.reset(seed=0)
    assert "boulder" in obs.long_term_context and "fountain" in obs.long_term_context
    assert "map:" not in obs.long_term_context
    assert obs.image.size == (79 * 16, 21 * 16)
    for action in ["east", "east", "north", "west"]:
        _, _, terminated, truncated, _ = env.step(action)
    assert terminated or truncated


def test_fixture_levels_are_in_boxoban_format_and_play(tmp_path):
    from vldac.eval.balrog.envs.minihack import write_fixture_levels

    root = write_fixture_levels(tmp_path / "levels", levels=3)
    for sub in ("hard", "medium/train"):
        blocks = (root / sub / "000.txt").read_text().strip().split("\n\n")
        assert len(blocks) == 3
        for n, block in enumerate(blocks):
            header, *rows = block.split("\n")
            assert header == f"; {n}" and len(rows) == 10 and {len(r) for r in rows} == {10}
            assert "".join(rows).count("$") == "".join(rows).count(".") == 1
    env = make_env("minihack", "MiniHack-Boxoban-Medium-v0", image=False, max_steps=2,
                   boxoban_levels_dir=str(root))
    env.reset(0)
    env.step(env.language_action_space[0])
    assert "progression" in env.stats()
    env.close()
