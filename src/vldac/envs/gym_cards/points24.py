"""Points24: make 24 from four cards, one symbol per step."""

from __future__ import annotations

from PIL import ImageDraw

from vldac.envs.gym_cards.common import NUMBER_ACTIONS, Card, FormulaCardGame, load_font
from vldac.envs.gym_cards.formula import first_solution

__all__ = ["Points24Env"]

_OPERATORS = ["+", "-", "*", "/", "(", ")", "="]
# Unsolvable deals are rare (a few percent), so a bounded redraw loop always ends quickly;
# the bound only guards against an RNG that never yields a solvable deal.
_MAX_REDRAWS = 1000


class Points24Env(FormulaCardGame):
    """Four cards; build a formula equal to 24 that uses all four, one symbol per step.

    Actions: '1'..'10', '+', '-', '*', '/', '(', ')', '='. Ranks 1..13 are drawn
    uniformly and J/Q/K count 10. Arithmetic is exact (fractions), so 8/(3-8/3) is 24.

    Deal: with ``solvable_only=True`` (default) the four cards are redrawn until some
    formula reaches 24, so every episode can be won. ``solvable_only=False`` is the
    official deal, where some episodes cannot be won and success is impossible there.

    Rewards: +10 for '=' on a formula equal to 24 using all four cards (success,
    terminates); -1 for '=' otherwise (terminates); -1 for a number not on an unused card
    (a blank is appended, the episode goes on); -1 and truncation when the formula is
    already longer than 20 tokens at the start of a step; 0 otherwise.

    invalid_action: default ``"random"`` (the official behaviour: a random legal symbol is
    appended, so the formula-length rule still bounds the episode); ``"penalty"`` costs -1
    and leaves the formula unchanged.

    max_episode_steps: default 30, so the formula-length rule (which fires by step 22 when
    every step appends) ends an episode before the time limit does.
    """

    name = "gym_cards/Points24-v0"
    actions = [*NUMBER_ACTIONS, *_OPERATORS]
    target = 24
    max_formula_length = 20
    operators = ("+", "-", "*", "/")
    formula_font_size = 16
    default_max_episode_steps = 30
    default_invalid_action = "random"

    def __init__(self, *, solvable_only: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.solvable_only = bool(solvable_only)

    def _deal(self) -> list[Card]:
        for _ in range(_MAX_REDRAWS):
            cards = [self._random_card() for _ in range(4)]
            if not self.solvable_only:
                return cards
            if first_solution([c.value for c in cards], self.target, self.operators):
                return cards
        raise RuntimeError("Points24 could not deal a solvable hand; check the RNG.")

    def _draw_formula(self, draw: ImageDraw.ImageDraw) -> None:
        font = load_font(self.formula_font_size)
        draw.text((10, int(300 * 0.70)), "Formula:", fill="white", font=font)
        for row, line in enumerate(self._formula_lines(280)[:3]):
            draw.text((10, int(300 * 0.78) + row * 20), line, fill="white", font=font)

    def _prompt(self) -> str:
        formula = self.formula_text()
        written = [token for token in self.formula if token.strip()]
        ends_in_number = bool(written) and written[-1].isdigit()
        # As in VL-DAC: after a number, only operators are offered (a second number in a
        # row would make the formula malformed). The full list stays legal to answer.
        offered = _OPERATORS if ends_in_number else self.actions
        state = f"Current formula: {formula}" if formula else "The formula is empty."
        return (
            "You are an expert 24 points card game player. The image shows four playing "
            "cards. Your goal is to build a formula that evaluates to 24, one symbol per "
            "turn: the symbol you choose is appended to the end of the current formula. "
            "Cards 'J', 'Q' and 'K' count as 10. Use the number of every card exactly once; "
            "the final formula looks like a+b*c-d with any operators and parentheses.\n"
            f"{state}\n"
            f"Choose exactly one symbol from {offered}. "
            "When the formula is complete and equals 24, choose '='. "
            "Keep your thoughts concise.\n"
            'Answer with JSON only: {"thoughts": "<your reasoning>", "action": "<one symbol>"}'
        )
