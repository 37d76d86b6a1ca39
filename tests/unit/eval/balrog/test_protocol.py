"""BALROG's agent protocol: prompts from the history, and completions parsed into actions."""

import sys

import pytest
from PIL import Image

from vldac.eval.balrog.base import BalrogEnv, BalrogObservation
from vldac.eval.balrog.protocol import (
    COT_INSTRUCTION,
    NAIVE_INSTRUCTION,
    AgentSettings,
    AgentState,
    check_action,
    parse_candidate,
)


class Grid(BalrogEnv):
    """Just enough of an env for the protocol: an action space and a default."""

    env_name, task = "fake", "grid"
    language_action_space = ["turn left", "turn right", "go forward"]
    default_action = "go forward"

    def __init__(self, accepts_any=False):
        self.accepts_any_action = accepts_any

    def instruction_prompt(self):
        return "You are in a grid.\nPLAY!"

    def reset(self, seed):
        raise NotImplementedError

    def step(self, action):
        raise NotImplementedError

    def stats(self):
        return {"progression": 0.0}


def _obs(text, short="", color=None):
    image = Image.new("RGB", (4, 4), color) if color else None
    return BalrogObservation(text, short, image)


def test_the_protocol_never_imports_torch():
    import subprocess

    code = ("import sys, vldac.eval.balrog.protocol, vldac.eval.balrog.summary; "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("completion", "agent", "candidate"),
    [
        ("  turn left \n", "naive", "turn left"),
        ("turn left.", "naive", "turn left"),
        ("1. go forward", "naive", " go forward"),  # filtered but not re-stripped: invalid
        ("Turn Left", "naive", "Turn Left"),  # case is kept: invalid
        ("I see a wall.\nACTION: turn right", "cot", "turn right"),
        ("ACTION: left\nsecond thought... ACTION:  go forward!", "cot", "go forward"),
        ("no marker here: turn left", "cot", "no marker here: turn left"),
        ("move 3 north", "naive", "move  north"),  # digits never survive (BALROG's quirk)
    ],
)
def test_completions_are_parsed_like_balrog(completion, agent, candidate):
    assert parse_candidate(completion, agent) == candidate


def test_validity_is_exact_membership_and_any_string_where_the_env_accepts_all():
    assert check_action("turn left", Grid()) == ("turn left", True)
    assert check_action("turn left ", Grid()) == ("go forward", False)
    assert check_action("Turn left", Grid()) == ("go forward", False)
    assert check_action("open the fridge", Grid(accepts_any=True)) == ("open the fridge", True)


def test_naive_prompt_history_and_invalid_action_feedback():
    env = Grid()
    agent = AgentState(AgentSettings("naive"), env.instruction_prompt())
    agent.observe(_obs("a wall ahead", short="health 9"))
    first = agent.messages()
    assert [(m.role, m.text) for m in first] == [
        ("user", "You are in a grid.\nPLAY!"),
        ("user", "Current Observation:\nhealth 9\na wall ahead\n\n" + NAIVE_INSTRUCTION),
    ]
    d = agent.decide("jump!", env)
    assert (d.candidate, d.action, d.valid) == ("jump", "go forward", False)
    agent.observe(_obs("a key"))
    second = agent.messages()
    assert [(m.role, m.text) for m in second[1:]] == [
        ("user", "Observation:\na wall ahead"),
        ("assistant", "jump"),  # the history keeps the candidate, not the default
        ("user", "Current Observation:\n\n\nYour previous output did not contain a valid "
                 "action. Defaulted to action: go forward\n\nObservation:\na key\n\n"
         + NAIVE_INSTRUCTION),
    ]
    assert agent.decide("turn left", env).valid
    agent.observe(_obs("a door"))
    # the feedback stays in that observation's history text; no feedback after a valid action
    texts = [m.text for m in agent.messages()]
    assert texts[3].startswith("Observation:\n\n\nYour previous output")
    assert texts[-1] == "Current Observation:\na door\n\n" + NAIVE_INSTRUCTION
    assert agent.failed_candidates == ["jump"]


def test_no_feedback_when_switched_off_and_no_history_entry_for_an_empty_answer():
    env = Grid()
    agent = AgentState(AgentSettings("naive", feedback_on_invalid_action=False), "")
    agent.observe(_obs("one"))
    assert agent.decide("42", env).candidate == ""
    agent.observe(_obs("two"))
    assert [(m.role, m.text) for m in agent.messages()] == [
        ("user", "Observation:\none"),
        ("user", "Current Observation:\ntwo\n\n" + NAIVE_INSTRUCTION),
    ]
    assert agent.failed_candidates == [""]


def test_text_history_keeps_the_last_observations_and_images_only_the_newest():
    env = Grid()
    agent = AgentState(AgentSettings("naive", max_text_history=2, max_image_history=1), "go")
    for k, color in enumerate(["red", "green", "blue"]):
        agent.observe(_obs(f"obs {k}", color=color))
        agent.decide("turn left", env)
    agent.observe(_obs("obs 3", color="white"))
    messages = agent.messages()
    # deque of 2 * max(2, 1) = 4 events: action, obs 2, action, obs 3
    assert [(m.role, m.text.split("\n\n")[0]) for m in messages] == [
        ("user", "go"),
        ("assistant", "turn left"),
        ("user", "Observation:\nobs 2"),
        ("assistant", "turn left"),
        ("user", "Current Observation:\nobs 3\nImage observation provided."),
    ]
    assert [m.image is not None for m in messages] == [False, False, False, False, True]
    chat = messages[-1].to_chat()
    assert [p["type"] for p in chat["content"]] == ["text", "image"]  # image after the text


def test_image_history_longer_than_text_history_keeps_observations_without_text():
    env = Grid()
    agent = AgentState(AgentSettings("naive", max_text_history=1, max_image_history=2), "go")
    agent.observe(_obs("old", color="red"))
    agent.decide("turn right", env)
    agent.observe(_obs("new", color="blue"))
    texts = [m.text.split("\n\n")[0] for m in agent.messages()]
    assert texts == ["go", "Observation:\nImage observation provided.", "turn right",
                     "Current Observation:\nnew\nImage observation provided."]


def test_cot_shows_the_previous_plan_instead_of_the_action():
    env = Grid()
    agent = AgentState(AgentSettings("cot"), "go")
    agent.observe(_obs("a"))
    first = "The wall is ahead.\nACTION: turn left"
    assert agent.decide(first, env).action == "turn left"
    agent.observe(_obs("b"))
    second = "Nothing here. ACTION: go forward"
    agent.decide(second, env)
    agent.observe(_obs("c"))
    messages = agent.messages()
    assert [(m.role, m.text) for m in messages[1:]] == [
        ("user", "Observation:\na"),
        ("assistant", "turn left"),  # max_cot_history=1: only the newest plan is shown
        ("user", "Observation:\nb"),
        ("assistant", "Previous plan:\n" + second),
        ("user", "Current Observation:\nc\n\n" + COT_INSTRUCTION),
    ]


def test_settings_are_validated():
    with pytest.raises(ValueError, match="unknown BALROG agent"):
        AgentSettings("react")
    with pytest.raises(ValueError, match="never see an observation"):
        AgentSettings("naive", max_text_history=0, max_image_history=0)


def test_alternate_roles_merges_consecutive_messages_of_one_role():
    agent = AgentState(AgentSettings("naive", max_image_history=1), "instructions")
    agent.observe(_obs("first", color="red"))
    plain = agent.conversation()
    assert [m["role"] for m in plain] == ["user", "user"]  # BALROG's default prompt
    merged = agent.conversation(alternate_roles=True)
    assert [m["role"] for m in merged] == ["user"]
    assert [p["type"] for p in merged[0]["content"]] == ["text", "text", "image"]
    assert merged[0]["content"][0]["text"] == "instructions"
