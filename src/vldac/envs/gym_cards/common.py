"""What EZPoints and Points24 share: building a formula one symbol per step from cards.

Rules (gym-cards, as in spec section 2.2):
- A number token is legal if that value is on a card not yet used in the formula. An
  illegal number gives -1, appends a blank ' ' to the formula (so it still grows towards
  the length limit) and does not end the episode.
- Before each step, a formula longer than ``max_formula_length`` truncates the episode
  with -1, whatever the answer was.
- '=' ends the episode: +10 if the formula equals the target and uses every card, else -1.
- Operators are always legal; malformed formulas only cost at '='.
"""

from __future__ import annotations

import abc
from collections import Counter
from dataclasses import dataclass

from PIL import Image, ImageDraw

from vldac.envs.discrete import DiscreteTextEnv, Outcome
from vldac.envs.gym_cards.formula import FormulaError, evaluate, numbers_used, solutions
from vldac.envs.render import SUITS, card_image, load_font, wrap_tokens

__all__ = ["Card", "FormulaCardGame", "TABLE_GREEN", "card_value"]

TABLE_GREEN = "#35654d"
NUMBER_ACTIONS = [str(n) for n in range(1, 11)]
BLANK = " "
WIN_REWARD = 10.0
LOSS_REWARD = -1.0
CANVAS = 300


@dataclass(frozen=True)
class Card:
    """A playing card: rank 1..13 (A, 2..10, J, Q, K) and suit 'C', 'D', 'H' or 'S'."""

    rank: int
    suit: str

    @property
    def value(self) -> int:
        return card_value(self.rank)


def card_value(rank: int) -> int:
    """Game value of a rank: face cards J/Q/K count 10."""
    return min(rank, 10)


class FormulaCardGame(DiscreteTextEnv):
    """Base for the formula games; subclasses deal cards and word the prompt."""

    target: int = 24
    max_formula_length: int = 20
    operators: tuple[str, ...] = ("+", "-", "*", "/")
    formula_font_size: int = 16

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.cards: list[Card] = []
        self.formula: list[str] = []
        self._plans: list[list[str]] | None = None

    # ----- game-specific hooks -------------------------------------------------------------

    @abc.abstractmethod
    def _deal(self) -> list[Card]:
        """The cards of a new episode, drawn from ``self._rng``."""

    @abc.abstractmethod
    def _draw_formula(self, draw: ImageDraw.ImageDraw) -> None:
        """Draw the current formula onto the frame."""

    # ----- rules ---------------------------------------------------------------------------

    @property
    def card_values(self) -> list[int]:
        return [card.value for card in self.cards]

    def _new_episode(self) -> None:
        self.cards = self._deal()
        self.formula = []
        self._plans = None

    def _number_available(self, token: str) -> bool:
        wanted = Counter(numbers_used([*self.formula, token]))
        have = Counter(self.card_values)
        return all(wanted[v] <= have[v] for v in wanted)

    def legal_actions(self) -> list[str]:
        """Numbers still on an unused card, plus every operator and '='."""
        numbers = [t for t in NUMBER_ACTIONS if self._number_available(t)]
        return numbers + [a for a in self.actions if a not in NUMBER_ACTIONS]

    def _pre_step(self) -> Outcome | None:
        if len(self.formula) > self.max_formula_length:
            return Outcome(reward=LOSS_REWARD, truncated=True)
        return None

    def _apply(self, action: str) -> Outcome:
        if action == "=":
            return self._judge()
        if action in NUMBER_ACTIONS and not self._number_available(action):
            self.formula.append(BLANK)
            return Outcome(reward=LOSS_REWARD)
        self.formula.append(action)
        return Outcome()

    def formula_value(self):
        """The exact value of the current formula, or None if it is malformed."""
        try:
            return evaluate(self.formula)
        except FormulaError:
            return None

    def _judge(self) -> Outcome:
        won = (
            sorted(numbers_used(self.formula)) == sorted(self.card_values)
            and self.formula_value() == self.target
        )
        return Outcome(reward=WIN_REWARD if won else LOSS_REWARD, terminated=True, success=won)

    def formula_text(self) -> str:
        """The formula as shown to the agent: tokens separated by spaces ('' when empty)."""
        return " ".join(self.formula)

    def _info(self) -> dict:
        return {"formula": self.formula_text(), "cards": self.card_values}

    # ----- the scripted expert -------------------------------------------------------------

    def expert_action(self) -> str:
        """The next symbol of a winning formula that extends the current one.

        Plans are enumerated once per episode. If no winning formula starts with the
        current tokens (the agent already went astray), the expert answers '=' to end.
        """
        if self._plans is None:
            self._plans = list(solutions(self.card_values, self.target, self.operators))
        written = [t for t in self.formula if t.strip()]
        for plan in self._plans:
            if plan[: len(written)] == written:
                return plan[len(written)] if len(plan) > len(written) else "="
        return "="

    # ----- observation ---------------------------------------------------------------------

    def _render(self) -> Image.Image:
        canvas = Image.new("RGB", (CANVAS, CANVAS), TABLE_GREEN)
        width = int(CANVAS / len(self.cards) * 0.9)
        height = int(width * 7 / 5)
        for i, card in enumerate(self.cards):
            face = card_image(card.rank, card.suit, width, height)
            x = 5 + int(i * width * 1.1)
            y = (CANVAS - height) // 2
            canvas.paste(face, (x, y), face)
        self._draw_formula(ImageDraw.Draw(canvas))
        return canvas

    def _formula_lines(self, max_width: int) -> list[str]:
        font = load_font(self.formula_font_size)
        return wrap_tokens(self.formula, font, max_width)

    def _random_card(self, rank: int | None = None) -> Card:
        """A card of ``rank`` (or a uniformly random rank) with a random suit."""
        rank = self._rng.randint(1, 13) if rank is None else rank
        return Card(rank, self._rng.choice(SUITS))
