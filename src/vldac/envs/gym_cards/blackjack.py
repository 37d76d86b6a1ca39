"""Blackjack with Gymnasium Blackjack-v1 rules (natural=False, sab=False), drawn as cards."""

from __future__ import annotations

from PIL import Image, ImageDraw

from vldac.envs.discrete import DiscreteTextEnv, Outcome
from vldac.envs.gym_cards.common import TABLE_GREEN, Card
from vldac.envs.render import SUITS, card_back_image, card_image, load_font

__all__ = ["BlackjackEnv", "hand_total", "is_bust", "score"]

_CARD_SIZE = (70, 98)
_ROW_WIDTH = 290  # pixels available for a row of cards, from x = 5


def hand_total(hand: list[Card]) -> int:
    """Best total of a hand: one ace counts 11 when that does not bust it ('usable ace')."""
    total = sum(card.value for card in hand)
    if any(card.value == 1 for card in hand) and total + 10 <= 21:
        return total + 10
    return total


def is_bust(hand: list[Card]) -> bool:
    return hand_total(hand) > 21


def score(hand: list[Card]) -> int:
    """The total that decides the game: 0 for a bust hand."""
    return 0 if is_bust(hand) else hand_total(hand)


def _is_natural(hand: list[Card]) -> bool:
    return sorted(card.value for card in hand) == [1, 10]


class BlackjackEnv(DiscreteTextEnv):
    """One hand against the dealer, from an infinite deck (cards drawn with replacement).

    Deal: dealer two cards (one face down), then player two cards; ranks 1..13 are
    uniform, so a value of 10 has probability 4/13 as in Gymnasium. The dealer's hidden
    card is shown once the episode ends.

    Actions: 'stand' (the dealer draws while below 17; terminates) and 'hit' (draw one
    card; terminates with -1 on a bust). Rewards: +1 win (success), 0 draw, -1 loss; a
    bust hand scores 0. With ``natural=False`` (default, as in the spec) a natural
    blackjack earns no bonus; ``natural=True`` pays 1.5 for winning with one.

    invalid_action: default ``"penalty"``: an unreadable answer draws nothing and costs -1
    (the price of a lost hand) with the hand unchanged, so garbage never wins by a lucky
    random stand. ``"random"`` is the official fallback.

    max_episode_steps: default 20; a hand ends within 12 real actions, so the limit only
    stops episodes that keep answering unreadably under ``"penalty"``.
    """

    name = "gym_cards/Blackjack-v0"
    actions = ["stand", "hit"]
    default_max_episode_steps = 20
    default_invalid_action = "penalty"

    def __init__(self, *, natural: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.natural = bool(natural)
        self.dealer: list[Card] = []
        self.player: list[Card] = []
        self._revealed = False

    def _draw(self) -> Card:
        """One card from the infinite deck, using the episode RNG."""
        return Card(self._rng.randint(1, 13), self._rng.choice(SUITS))

    def _new_episode(self) -> None:
        self.dealer = [self._draw(), self._draw()]
        self.player = [self._draw(), self._draw()]
        self._revealed = False

    def _apply(self, action: str) -> Outcome:
        if action == "hit":
            self.player.append(self._draw())
            if is_bust(self.player):
                self._revealed = True
                return Outcome(reward=-1.0, terminated=True)
            return Outcome()
        while hand_total(self.dealer) < 17:
            self.dealer.append(self._draw())
        self._revealed = True
        player, dealer = score(self.player), score(self.dealer)
        reward = float(player > dealer) - float(player < dealer)
        if self.natural and reward == 1.0 and _is_natural(self.player):
            reward = 1.5
        return Outcome(reward=reward, terminated=True, success=reward > 0)

    def expert_action(self) -> str:
        """A simple fixed policy: hit below 17, stand otherwise."""
        return "hit" if hand_total(self.player) < 17 else "stand"

    def _info(self) -> dict:
        return {
            "player_total": hand_total(self.player),
            "dealer_total": hand_total(self.dealer),
            "dealer_showing": self.dealer[0].value if self.dealer else None,
        }

    def _render(self) -> Image.Image:
        image = Image.new("RGB", (300, 300), TABLE_GREEN)
        draw = ImageDraw.Draw(image)
        font = load_font(16, bold=True)
        draw.text((5, 5), "Dealer", fill="white", font=font)
        draw.text((5, 130), "Player", fill="white", font=font)
        width, height = _CARD_SIZE
        dealer = [card_image(c.rank, c.suit, width, height) for c in self.dealer]
        if not self._revealed:
            dealer = [dealer[0], card_back_image(width, height)]
        player = [card_image(c.rank, c.suit, width, height) for c in self.player]
        for row, y in ((dealer, 25), (player, 150)):
            # Fan the hand across one row; overlapping cards keep their corner index visible.
            step = width + 4
            if len(row) > 1 and len(row) * step - 4 > _ROW_WIDTH:
                step = (_ROW_WIDTH - width) / (len(row) - 1)
            for i, face in enumerate(row):
                image.paste(face, (5 + round(i * step), y), face)
        return image

    def _prompt(self) -> str:
        return (
            "You are a blackjack player. The image shows the dealer's cards (one face up, "
            "one face down) and your cards. Aces count 1 or 11; 'J', 'Q' and 'K' count 10. "
            "Get closer to 21 than the dealer without going over. "
            f"Choose exactly one action from {self.actions}: 'hit' takes another card, "
            "'stand' ends your turn and the dealer plays.\n"
            "In your thoughts, first state your total and the dealer's visible total, "
            "then decide.\n"
            'Answer with JSON only: {"thoughts": "<your reasoning>", "action": "stand" or "hit"}'
        )
