"""Reading actions out of model answers: fences, quotes, literals, overlaps, garbage."""

import pytest

from vldac.envs.parsing import extract_action, extract_json_dict

EZ = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "+", "*", "="]
P24 = [*EZ[:10], "+", "-", "*", "/", "(", ")", "="]
BJ = ["stand", "hit"]


@pytest.mark.parametrize(
    ("text", "actions", "expected"),
    [
        ('{"thoughts": "go right", "action": "+"}', ["-", "+"], "+"),
        ('```json\n{"thoughts": "x", "action": "hit"}\n```', BJ, "hit"),
        ("```\n{'thoughts': 'single quotes', 'action': 'stand'}\n```", BJ, "stand"),
        ('{"thoughts": "ok", "done": true, "sure": False, "action": "hit"}', BJ, "hit"),
        ('{"thoughts": "t", "action": "10"} I hope this helps!', EZ, "10"),
        ('{"thoughts": "t", "action": 10}', EZ, "10"),
        ('{"thoughts": "t", "action": 1}', EZ, "1"),
        ('{"thoughts": "t", "action": 10.0}', EZ, "10"),
        ('{"thoughts": "t", "action": ["*"]}', EZ, "*"),
        ('{"thoughts": "t", "action": "HIT"}', BJ, "hit"),
        ('{"thoughts": "t", "action": "Stand."}', BJ, "stand"),
        ('{"thoughts": "line one\nline two", "action": "=",}', EZ, "="),
        ('{"response": {"thoughts": "nested", "action": "-"}}', P24, "-"),
        ('Sure. {"thoughts": "first"} then {"action": "("}', P24, "("),
    ],
)
def test_dict_answers(text, actions, expected):
    assert extract_action(text, actions) == expected


def test_unescaped_quotes_in_thoughts_fall_back_to_the_action_label():
    text = '{"thoughts": "the "K" card is 10", "action": "hit"}'
    assert extract_json_dict(text) is None
    assert extract_action(text, BJ) == "hit"


@pytest.mark.parametrize(
    ("text", "actions", "expected"),
    [
        ("  +  ", ["-", "+"], "+"),
        ("Stand", BJ, "stand"),
        ("'10'", EZ, "10"),
        ("`*`", EZ, "*"),
        ("Thoughts: 6 times 2 makes 12.\nAction: 10", EZ, "10"),
        ("thoughts... action = '1'", EZ, "1"),
        ('"action": +', ["-", "+"], "+"),
        ("I think the best move is to hit now.", BJ, "hit"),
        ("The answer is 10 because 2 + 10 = 12", EZ, "10"),
        ("It is a blue square, so B", ["A", "B"], "B"),
        ("{action = hit now}", BJ, "hit"),
    ],
)
def test_plain_text_answers(text, actions, expected):
    assert extract_action(text, actions) == expected


def test_ten_is_never_read_as_one():
    assert extract_action('{"action": "10"}', EZ) == "10"
    assert extract_action("action: 10", EZ) == "10"
    assert extract_action("I pick 10", EZ) == "10"
    assert extract_action("100 is too big; 1 it is", EZ) == "1"


def test_minus_and_plus_are_told_apart():
    assert extract_action('{"action": "-"}', ["-", "+"]) == "-"
    assert extract_action("x-ray vision says: +", ["-", "+"]) == "+"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "no idea",
        '{"thoughts": "t", "action": "11"}',
        '{"thoughts": "t", "action": null}',
        '{"thoughts": "t", "action": {"x": 1}}',
        "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
        "1.5 things",
        "reaction: x",
    ],
)
def test_garbage_gives_none(text):
    assert extract_action(text, EZ) is None


def test_one_letter_actions_match_case_sensitively_in_free_text():
    assert extract_action("It is a blue square.", ["A", "B"]) is None
    assert extract_action("a", ["A", "B"]) == "A"  # the whole answer is still case-insensitive


def test_label_separator_is_not_an_action():
    assert extract_action("{action = hit now}", EZ) is None


def test_an_explicit_unknown_action_is_not_guessed_from_the_thoughts():
    text = '{"thoughts": "I could hit or stand", "action": "double"}'
    assert extract_action(text, BJ) is None


def test_never_evaluates_the_text():
    text = '{"action": __import__("os").system("echo pwned")}'
    assert extract_action(text, BJ) is None


def test_extract_json_dict_prefers_the_dict_with_an_action():
    text = 'Plan: {"a": 1}. Final: ```json\n{"thoughts": "x", "action": "hit"}\n```'
    assert extract_json_dict(text) == {"thoughts": "x", "action": "hit"}
    assert extract_json_dict('{"a": True, "b": null}') == {"a": True, "b": None}
    assert extract_json_dict("nothing here") is None
    assert extract_json_dict("[" * 5000) is None
