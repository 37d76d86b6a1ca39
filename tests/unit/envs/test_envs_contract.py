"""Every env: determinism, observation shape, info keys, the hidden dealer card, rendering."""

import pytest
from PIL import ImageFont

from vldac.envs import make, registered, render
from vldac.envs.gym_cards.common import Card
from vldac.envs.registry import extra_of

# The envs of the core install; each simulator with an extra has its own test file.
CORE = [name for name in registered() if extra_of(name) is None]
GYM_CARDS = [name for name in registered() if name.startswith("gym_cards/")]
# A mix of readable, unreadable and illegal answers, replayed on every env.
TEXTS = ['{"action": "+"}', "garbage", '{"action": "hit"}', "A", "10", "=", "stand", "x"] * 3


def rollout(name, seed, **kwargs):
    env = make(name, **kwargs)
    obs = env.reset(seed)
    frames, rewards, prompts, infos = [obs.images[0].tobytes()], [], [obs.text], []
    for text in TEXTS:
        result = env.step(text)
        frames.append(result.observation.images[0].tobytes())
        rewards.append(result.reward)
        prompts.append(result.observation.text)
        infos.append(result.info)
        if result.terminated or result.truncated:
            obs = env.reset(seed + 1000)
            frames.append(obs.images[0].tobytes())
    return frames, rewards, prompts, infos


@pytest.mark.parametrize("name", CORE)
@pytest.mark.parametrize("rule", ["random", "penalty"])
def test_same_seed_and_texts_replay_exactly(name, rule):
    first = rollout(name, 3, invalid_action=rule)
    second = rollout(name, 3, invalid_action=rule)
    assert first == second
    for info in first[3]:
        assert {"success", "action_is_valid", "parse_failed", "action"} <= set(info)


@pytest.mark.parametrize("name", CORE)
def test_different_seeds_give_different_episodes(name):
    env = make(name)
    frames = {env.reset(seed).images[0].tobytes() for seed in range(12)}
    assert len(frames) > 1


@pytest.mark.parametrize("name", GYM_CARDS)
def test_gym_cards_frames_are_300_by_300_rgb(name):
    image = make(name).reset(0).images[0]
    assert (image.mode, image.size) == ("RGB", (300, 300))


def test_probe_colour_is_the_only_difference_and_decides_the_answer():
    env = make("probe/ColorMatch", size=32)
    seen = {}
    for seed in range(40):
        obs = env.reset(seed)
        red, _, blue = obs.images[0].resize((1, 1)).getpixel((0, 0))
        seen.setdefault(obs.text, set()).add("A" if red > blue else "B")
        assert env.expert_action() == ("A" if red > blue else "B")
        result = env.step(env.expert_action())
        assert result.reward == 1.0 and result.terminated and result.info["success"]
    assert list(seen.values()) == [{"A", "B"}]  # one prompt for both colours
    env.reset(0)
    wrong = "B" if env.expert_action() == "A" else "A"
    result = env.step(wrong)
    assert (result.reward, result.info["success"], result.terminated) == (0.0, False, True)
    env = make("probe/ColorMatch", invalid_action="penalty")
    env.reset(0)
    result = env.step("???")
    assert (result.reward, result.terminated, result.truncated) == (-1.0, False, True)


def test_dealer_hole_card_is_hidden_until_the_end():
    frames = []
    for hole in (9, 2):
        env = make("gym_cards/Blackjack-v0")
        env.reset(0)
        env.dealer = [Card(5, "H"), Card(hole, "S")]
        frames.append(env._render().tobytes())
    assert frames[0] == frames[1]
    env.player = [Card(10, "C"), Card(9, "D")]
    env.step("stand")
    assert env._render().tobytes() != frames[0]


def test_fonts_and_cards(monkeypatch):
    assert render.font_path() and render.font_path(bold=True)
    # Without any DejaVu file, PIL's built-in font is used (bypassing the cache).
    monkeypatch.setattr(render, "font_path", lambda bold=False: None)
    font = render.load_font.__wrapped__(12)
    assert isinstance(font, (ImageFont.FreeTypeFont, ImageFont.ImageFont))
    face = render.card_image(12, "H", 70, 98)
    assert (face.mode, face.size) == ("RGBA", (70, 98))
    assert face.getpixel((0, 0))[3] < 16  # transparent outside the rounded corner
    assert [render.rank_label(r) for r in (1, 10, 11, 12, 13)] == ["A", "10", "J", "Q", "K"]
    with pytest.raises(ValueError):
        render.rank_label(14)
