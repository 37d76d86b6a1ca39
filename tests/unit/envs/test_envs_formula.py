"""The safe formula evaluator and the solver behind the Points experts."""

from fractions import Fraction

import pytest

from vldac.envs.gym_cards.formula import FormulaError, evaluate, first_solution, solutions


@pytest.mark.parametrize(
    ("tokens", "value"),
    [
        (["6", "*", "2"], 12),
        (["2", "+", "10"], 12),
        (["(", "10", "+", "2", ")", "*", "2"], 24),
        (["10", "-", "2", "-", "3"], 5),
        (["8", "/", "(", "3", "-", "8", "/", "3", ")"], 24),
        (["-", "3", "+", "5"], 2),
        (["6", " ", "*", " ", "2"], 12),
    ],
)
def test_evaluate(tokens, value):
    assert evaluate(tokens) == Fraction(value)


@pytest.mark.parametrize(
    "tokens",
    [
        [],
        ["1", "2"],
        ["2", "*", "*", "3"],
        ["8", "/", "/", "2"],
        ["(", "1"],
        ["1", ")"],
        ["1", "/", "0"],
        ["+"],
    ],
)
def test_malformed(tokens):
    with pytest.raises(FormulaError):
        evaluate(tokens)


def test_solutions_use_every_card_and_hit_the_target():
    found = list(solutions([3, 3, 8, 8], 24))
    assert found
    for tokens in found:
        assert sorted(int(t) for t in tokens if t.isdigit()) == [3, 3, 8, 8]
        assert evaluate(tokens) == 24
    assert first_solution([1, 1, 1, 1], 24) is None
    assert first_solution([6, 2], 12, ops=("+", "*")) is not None
