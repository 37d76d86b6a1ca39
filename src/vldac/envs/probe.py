"""A one-step visual probe: is the square red or blue? Checks that RL learns from pixels.

The text prompt is identical for both colours, so a policy can only beat chance by
reading the image. Answer 'A' for red, 'B' for blue.
"""

from __future__ import annotations

from PIL import Image

from vldac.envs.discrete import DiscreteTextEnv, Outcome

__all__ = ["ColorMatchEnv"]

_COLOURS = {"A": (200, 30, 30), "B": (30, 60, 200)}  # A = red, B = blue
_NOISE_SHIFT = 3  # noise byte >> 3 spans 0..31, centred to -16..15 below


class ColorMatchEnv(DiscreteTextEnv):
    """One step per episode; the seed picks a solid red or blue square with mild noise.

    Actions: 'A' (red) and 'B' (blue). Correct: reward 1.0, success, terminates.
    Wrong: reward 0.0, terminates.

    invalid_action: default ``"random"`` (a random colour is answered for an unreadable
    reply, so it scores 1.0 half the time); ``"penalty"`` gives -1.0 and, with the default
    one-step limit, ends the episode by truncation.

    Arguments: ``size`` (side of the square image in pixels, default 224: at 64 px a tiny
    random vision tower passes too little of the colour to the last prompt token) and ``noise``
    (whether to add deterministic per-pixel noise of +-16 levels, default True).
    """

    name = "probe/ColorMatch"
    actions = ["A", "B"]
    default_max_episode_steps = 1
    default_invalid_action = "random"

    def __init__(self, *, size: int = 224, noise: bool = True, **kwargs) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 2048:
            raise ValueError(f"size must be an integer in 1..2048, got {size!r}.")
        super().__init__(**kwargs)
        self.size = size
        self.noise = bool(noise)
        self.answer = "A"
        self._image: Image.Image | None = None

    def _new_episode(self) -> None:
        self.answer = "A" if self._rng.random() < 0.5 else "B"
        base = _COLOURS[self.answer]
        if not self.noise:
            self._image = Image.new("RGB", (self.size, self.size), base)
            return
        # One noise field shared by the channels; bytes.translate keeps it fast and exact.
        field = self._rng.randbytes(self.size * self.size)
        channels = []
        for level in base:
            table = bytes(max(0, min(255, level + (b >> _NOISE_SHIFT) - 16)) for b in range(256))
            channels.append(Image.frombytes("L", (self.size, self.size), field.translate(table)))
        self._image = Image.merge("RGB", channels)

    def _apply(self, action: str) -> Outcome:
        correct = action == self.answer
        return Outcome(reward=1.0 if correct else 0.0, terminated=True, success=correct)

    def expert_action(self) -> str:
        return self.answer

    def _info(self) -> dict:
        return {"answer": self.answer}

    def _render(self) -> Image.Image:
        return self._image.copy()

    def _prompt(self) -> str:
        return (
            "Look at the image. It shows a square filled with one colour. "
            "If the square is red, answer 'A'; if it is blue, answer 'B'.\n"
            'Answer with JSON only: {"thoughts": "<your reasoning>", "action": "A" or "B"}'
        )
