"""NumberLine: step the current number to the target with '-' and '+'."""

from __future__ import annotations

from PIL import Image, ImageDraw

from vldac.envs.discrete import DiscreteTextEnv, Outcome
from vldac.envs.render import load_font

__all__ = ["NumberLineEnv"]


class NumberLineEnv(DiscreteTextEnv):
    """A target and a current position on 0..max_position (default 5), drawn as text.

    Actions: '-' (current - 1, not below 0) and '+' (current + 1, not above max_position).
    Start and target differ: when the draw makes them equal, the target becomes
    (target + 1) % max_position, as in gym-cards.

    Rewards: +1 on reaching the target (success, terminates); -1 if the distance to the
    target did not decrease (moving away, or pushing against an end); 0 otherwise.
    The episode truncates after 2 * max_position steps (10 by default, the game's rule);
    ``max_episode_steps`` overrides that limit.

    invalid_action: default ``"penalty"``: an unreadable answer moves nothing and costs -1,
    exactly what the game charges for any step that does not get closer, so garbage is
    never rewarded by a lucky random move. ``"random"`` is the official fallback.
    """

    name = "gym_cards/NumberLine-v0"
    actions = ["-", "+"]
    default_invalid_action = "penalty"

    def __init__(self, *, max_position: int = 5, **kwargs) -> None:
        if isinstance(max_position, bool) or not isinstance(max_position, int) or max_position < 1:
            raise ValueError(f"max_position must be a positive integer, got {max_position!r}.")
        self.max_position = max_position
        self.default_max_episode_steps = 2 * max_position
        super().__init__(**kwargs)
        self.position = 0
        self.goal = 0

    def _new_episode(self) -> None:
        self.position = self._rng.randint(0, self.max_position)
        self.goal = self._rng.randint(0, self.max_position)
        if self.goal == self.position:
            self.goal = (self.goal + 1) % self.max_position

    def _apply(self, action: str) -> Outcome:
        before = abs(self.position - self.goal)
        if action == "-":
            self.position = max(0, self.position - 1)
        else:
            self.position = min(self.max_position, self.position + 1)
        after = abs(self.position - self.goal)
        if after == 0:
            return Outcome(reward=1.0, terminated=True, success=True)
        return Outcome(reward=-1.0 if after >= before else 0.0)

    def expert_action(self) -> str:
        """Move toward the target."""
        return "+" if self.goal > self.position else "-"

    def _info(self) -> dict:
        return {"position": self.position, "target": self.goal}

    def _render(self) -> Image.Image:
        image = Image.new("RGB", (300, 300), "white")
        draw = ImageDraw.Draw(image)
        font = load_font(36, bold=True)
        draw.text((30, 60), f"Target: {self.goal}", fill="black", font=font)
        draw.text((30, 180), f"Current: {self.position}", fill="black", font=font)
        return image

    def _prompt(self) -> str:
        return (
            "You are playing Number Line. The image shows a target number and a current "
            "number. Your goal is to move the current number to the target, one step per "
            "turn: '-' subtracts one from the current number and '+' adds one. "
            f"Choose exactly one action from {self.actions}. "
            "First describe what you see, then think briefly about which way to move.\n"
            'Answer with JSON only: {"thoughts": "<your reasoning>", "action": "<- or +>"}'
        )
