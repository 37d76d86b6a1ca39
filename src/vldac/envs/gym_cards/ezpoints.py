"""EZPoints: make 12 from two cards, one symbol per step (the Gym-Cards task of the paper)."""

from __future__ import annotations

from PIL import ImageDraw

from vldac.envs.gym_cards.common import NUMBER_ACTIONS, Card, FormulaCardGame, load_font

__all__ = ["EZPointsEnv"]

# First-card values that divide 12, so the second card can make 12 by multiplication.
_DIVISORS_OF_12 = (1, 2, 3, 4, 6)


class EZPointsEnv(FormulaCardGame):
    """Two cards; build a formula equal to 12 that uses both, appending one symbol per step.

    Actions: '1'..'10', '+', '*', '='. J/Q/K count 10.

    Deal (always solvable by construction): the first card has rank 2..13; the second card
    makes 12 with it, by multiplication with probability 1/2 when the first value divides
    12, otherwise by addition; then the two cards swap places with probability 1/2.

    Rewards: +10 for '=' on a formula equal to 12 using both cards (success, terminates);
    -1 for '=' otherwise (terminates); -1 for a number not on an unused card (a blank is
    appended, the episode goes on); -1 and truncation when the formula is already longer
    than 5 tokens at the start of a step; 0 otherwise.

    invalid_action (what an unreadable answer does): default ``"random"``, the official
    behaviour (a random legal symbol is appended), which keeps runs comparable with the
    paper's EZPoints curves; ``"penalty"`` instead costs -1 and leaves the formula as is.

    max_episode_steps: default 20 (the VL-DAC config). The formula-length rule ends most
    episodes first; the limit matters for ``"penalty"`` runs whose formula never grows.
    """

    name = "gym_cards/EZPoints-v0"
    actions = [*NUMBER_ACTIONS, "+", "*", "="]
    target = 12
    max_formula_length = 5
    operators = ("+", "*")
    formula_font_size = 20
    default_max_episode_steps = 20
    default_invalid_action = "random"

    def _deal(self) -> list[Card]:
        first = self._random_card(self._rng.randint(2, 13))
        if first.value in _DIVISORS_OF_12 and self._rng.random() < 0.5:
            second_value = self.target // first.value
        else:
            second_value = self.target - first.value
        cards = [first, self._random_card(second_value)]
        if self._rng.random() < 0.5:
            cards.reverse()
        return cards

    def _draw_formula(self, draw: ImageDraw.ImageDraw) -> None:
        font = load_font(self.formula_font_size)
        text = "Formula: " + self.formula_text()
        draw.text((10, int(300 * 0.86)), text, fill="white", font=font)

    def _prompt(self) -> str:
        formula = self.formula_text() or "(empty)"
        return (
            "You are an expert card game player. The image shows two playing cards. "
            "Your goal is to build a formula that evaluates to 12, one symbol per turn: "
            "the symbol you choose is appended to the end of the current formula. "
            "Cards 'J', 'Q' and 'K' count as 10. Use the number of each card exactly once, "
            "and use both cards.\n"
            f"Current formula: {formula}\n"
            f"Choose exactly one symbol from {self.actions}. "
            "When the formula is complete and equals 12, choose '='. "
            "Keep your thoughts concise.\n"
            'Answer with JSON only: {"thoughts": "<your reasoning>", "action": "<one symbol>"}'
        )
