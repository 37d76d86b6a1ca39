"""BALROG NetHack: action space, text in both modes, image, seeding, and the word rules."""

import numpy as np
import pytest

pytest.importorskip("nle", reason="nle is not installed: pip install -e '.[balrog]'")

from vldac.eval.balrog.envs import make_env  # noqa: E402
from vldac.eval.balrog.envs import nle_language as lang  # noqa: E402

TASK = "NetHackChallenge-v0"


@pytest.fixture(scope="module")
def text_env():
    return make_env("nle", TASK, image=False)


def test_action_space_and_default(text_env):
    space = text_env.language_action_space
    assert space[:4] == ["north", "east", "south", "west"]
    for name in ("far northwest", "up", "down", "more", "esc", "pray", "minus", "space", "apos"):
        assert name in space
    assert [str(d) for d in range(10)] == [a for a in space if a.isdigit()]
    assert "overview" not in space and "a" not in space  # not in BALROG's descriptions
    assert text_env.default_action == "esc"
    prompt = text_env.instruction_prompt()
    assert prompt.startswith("You are an agent playing NetHack.")
    assert "esc: exit menu or message,\n" in prompt and prompt.endswith("PLAY!")


def test_language_mode_text_is_deterministic_and_hybrid(text_env):
    other = make_env("nle", TASK, image=False)
    a, _ = text_env.reset(seed=7)
    b, _ = other.reset(seed=7)
    assert a.long_term_context == b.long_term_context
    for section in ("message:\n", "language observation:\n", "cursor:\n", "map:\n"):
        assert section in a.long_term_context
    assert "(x=" in a.long_term_context and a.image is None
    assert a.short_term_context.startswith("inventory:\na: ")
    for action in ("west", "search", "esc"):
        assert text_env.step(action)[0].long_term_context == other.step(action)[0].long_term_context
    stats = text_env.stats()
    assert stats["progression"] == 0.0 and stats["depth"] == 1 and stats["time"] >= 1
    assert {"score", "gold", "experience_level", "dlvl_list", "xplvl_list", "end_reason"} <= set(
        stats
    )


def test_image_mode_drops_the_map_and_adds_tiles():
    env = make_env("nle", TASK, image=True, max_steps=3)
    obs, _ = env.reset(seed=7)
    assert "map:" not in obs.long_term_context and "(x=" not in obs.long_term_context
    assert obs.short_term_context.startswith("statistics:\nStrength: ")
    assert obs.image.size == (79 * 16, 21 * 16) and obs.image.mode == "RGB"
    assert np.asarray(obs.image).std() > 0
    ends = [env.step("wait")[2:4] for _ in range(3)]
    assert ends[-1][1] and not any(end[1] for end in ends[:-1])


def test_position_words_by_hand():
    assert lang.position_words(1, 0) == ("adjacent", "east")
    assert lang.position_words(-2, 2) == ("very near", "northwest")
    assert lang.position_words(3, 1) == ("near", "eastnortheast")
    assert lang.position_words(0, -7) == ("far", "south")
    assert lang.position_words(-25, -1) == ("very far", "westsouthwest")


def test_plurals_and_merging_by_hand():
    assert lang.pluralize("jackal") == "jackals"
    assert lang.pluralize("fountain") == "fountains"
    assert lang.pluralize("iron bars") == "iron bars"
    assert lang.pluralize("ruby") == "rubies"
    assert lang.pluralize("box") == "boxes"
    assert lang.pluralize("scroll labeled FOO") == "scrolls labeled FOO"
    merged = lang._merge(
        [
            ("wall", "near", "east"),
            ("wall", "near", "west"),
            ("jackal", "far", "north"),
            ("jackal", "far", "north"),
            ("wall", "near", "north"),
        ]
    )
    assert merged == [("wall", "near", "east, west, and north"), ("jackals", "far", "north")]


def test_message_inventory_and_blstats_by_hand():
    tty = np.full((24, 80), ord(" "), dtype=np.uint8)
    tty[0, :17] = np.frombuffer(b"You see a jackal.", dtype=np.uint8)
    assert lang.text_message(tty) == "You see a jackal."
    tty[1, :14] = np.frombuffer(b"It bites!--More--", dtype=np.uint8)[:14]
    tty[1, :17] = np.frombuffer(b"It bites!--More--", dtype=np.uint8)
    assert lang.text_message(tty) == "You see a jackal.\nIt bites!--More--"
    letters = np.array([ord("a"), ord("b"), 0], dtype=np.uint8)
    strs = np.zeros((3, 80), dtype=np.uint8)
    strs[0, :5] = np.frombuffer(b"a cat", dtype=np.uint8)
    strs[1, :6] = np.frombuffer(b"2 figs", dtype=np.uint8)
    assert lang.text_inventory(strs, letters) == "a: a cat\nb: 2 figs"
    blstats = np.zeros(27, dtype=np.int64)
    blstats[[3, 2, 12, 10, 11, 21, 26]] = [16, 16, 2, 7, 12, 1, 0]
    text = lang.text_blstats(blstats)
    assert "Strength: 16/16\n" in text and "Depth: 2\n" in text and "HP: 7/12\n" in text
    assert "Hunger: Not Hungry" in text and text.endswith("Alignment: Neutral\nCondition: None")
