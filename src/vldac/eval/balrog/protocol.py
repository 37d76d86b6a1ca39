"""BALROG's agents: how a prompt is built from the history and a completion becomes an action.

This is a re-implementation of the protocol of BALROG (balrog-ai/BALROG, MIT license; the
HEAD read for it is af7d1f1, files ``balrog/agents/naive.py``, ``balrog/agents/
chain_of_thought.py``, ``balrog/prompt_builder/history.py``, ``balrog/evaluator.py``,
``balrog/environments/env_wrapper.py``, ``balrog/client.py``). The instruction and feedback
strings below are BALROG's, verbatim, because they are part of the protocol; the code is ours.

One step of an episode, exactly as BALROG plays it:

1. :meth:`AgentState.observe` adds the observation to the history. If the previous answer
   was not a valid action (and feedback is on), the feedback text is prefixed to the
   observation's long-term context, and stays there in the history.
2. :meth:`AgentState.messages` builds the prompt: the env's instruction prompt as the first
   ``user`` message, then alternating ``user`` observations / ``assistant`` actions from a
   history of ``2 * max(max_text_history, max_image_history)`` events. Observations are
   ``"Observation:\\n<long-term>"``; the current one is ``"Current Observation:\\n<short-term>
   \\n<long-term>"`` (the short-term line only when non-empty). Only the most recent
   ``max_text_history`` observations keep their text and the most recent
   ``max_image_history`` observations that have an image keep it (with the line
   ``"Image observation provided."``). For CoT, the ``max_cot_history`` most recent actions
   are shown as ``"Previous plan:\\n<the whole previous completion>"``. The agent's
   instruction (:data:`NAIVE_INSTRUCTION` / :data:`COT_INSTRUCTION`) is appended to the last
   message after a blank line.
3. :meth:`AgentState.decide` turns the completion into an action: ``.strip()`` (BALROG's
   client does this), then keep only letters, whitespace and ``:`` (so digits can never be
   produced: BALROG's quirk, kept); CoT then takes the text after the last ``ACTION:``,
   stripped. The candidate is valid if it is exactly (case-sensitive) in the env's
   ``language_action_space`` (TextWorld accepts any string); otherwise the env's default
   action is executed and the candidate is recorded as a failed candidate. The history
   remembers the candidate (not the default), and an empty candidate adds no action at all.

Images in a message come after its text, as BALROG's OpenAI/vLLM client sends them.
This module imports neither torch nor transformers.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from vldac.eval.balrog.base import BalrogEnv, BalrogObservation

# --- BALROG's protocol strings (balrog-ai/BALROG @ af7d1f1, MIT license), verbatim ---------
NAIVE_INSTRUCTION = (
    "You always have to output one of the above actions at a time and no other text. "
    "You always have to output an action until the episode terminates."
)  # balrog/agents/naive.py
COT_INSTRUCTION = (
    "First think about what's the best course of action step by step.\n"
    "Finally, provide a single output action at the end of the message in the form of: "
    "ACTION: <action>"
)  # balrog/agents/chain_of_thought.py
INVALID_ACTION_FEEDBACK = (
    "\n\nYour previous output did not contain a valid action. Defaulted to action: {action}"
    "\n\nObservation:\n"
)  # balrog/evaluator.py, prefixed to the next observation's long-term context
IMAGE_NOTE = "Image observation provided."  # balrog/prompt_builder/history.py
OBSERVATION_LABEL = "Observation:"
CURRENT_OBSERVATION_LABEL = "Current Observation:"
PREVIOUS_PLAN_LABEL = "Previous plan:\n"
ACTION_MARKER = "ACTION:"
# -----------------------------------------------------------------------------------------

AGENTS = ("naive", "cot")
_NOT_LETTERS = re.compile(r"[^a-zA-Z\s:]")


@dataclass(frozen=True)
class AgentSettings:
    """BALROG's agent configuration (``config.yaml`` ``agent:`` and ``eval:`` keys).

    Defaults are BALROG's: 16 text observations, no images (language mode; VLM mode is
    ``max_image_history=1``), one previous plan for CoT, feedback on invalid actions.
    """

    agent: str = "naive"
    max_text_history: int = 16
    max_image_history: int = 0
    max_cot_history: int = 1
    feedback_on_invalid_action: bool = True

    def __post_init__(self) -> None:
        if self.agent not in AGENTS:
            raise ValueError(f"unknown BALROG agent {self.agent!r}; choose one of {list(AGENTS)}.")
        for name in ("max_text_history", "max_image_history", "max_cot_history"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}.")
        if max(self.max_text_history, self.max_image_history) < 1:
            raise ValueError("max_text_history or max_image_history must be >= 1, or the "
                             "agent would never see an observation.")

    @property
    def instruction(self) -> str:
        return NAIVE_INSTRUCTION if self.agent == "naive" else COT_INSTRUCTION

    def balrog_config(self) -> dict[str, Any]:
        """These settings under BALROG's own key names (its per-episode ``agent`` record)."""
        return {
            "type": self.agent,
            "remember_cot": True,
            "max_text_history": self.max_text_history,
            "max_image_history": self.max_image_history,
            "max_cot_history": self.max_cot_history,
            "feedback_on_invalid_action": self.feedback_on_invalid_action,
        }


@dataclass
class Message:
    """One chat message of the prompt: its text and at most one image (after the text)."""

    role: str  # "user" | "assistant"
    text: str
    image: Image.Image | None = None

    def to_chat(self) -> dict[str, Any]:
        """The Hugging Face chat format :class:`vldac.eval.chat.ChatModel` answers."""
        content: list[dict[str, Any]] = [{"type": "text", "text": self.text}]
        if self.image is not None:
            content.append({"type": "image", "image": self.image})
        return {"role": self.role, "content": content}


@dataclass(frozen=True)
class Decision:
    """What one completion became.

    ``completion``: the model's answer, stripped; ``candidate``: the action parsed from it
    (letter filter, CoT's ``ACTION:`` split); ``action``: what the env executes (the
    candidate, or the default action when the candidate is invalid).
    """

    completion: str
    candidate: str
    action: str
    valid: bool


def filter_letters(text: str) -> str:
    """BALROG's sanitiser: keep ASCII letters, whitespace and ':' only."""
    return _NOT_LETTERS.sub("", text)


def parse_candidate(completion: str, agent: str) -> str:
    """The action candidate in a completion, as BALROG's naive / CoT agent extracts it.

    Naive: the stripped completion through the letter filter (not stripped again, so
    ``"1. go forward"`` becomes ``" go forward"`` and is invalid, as in BALROG).
    CoT: the filtered completion's text after its last ``ACTION:``, stripped.
    """
    filtered = filter_letters(completion.strip())
    if agent == "cot":
        return filtered.split(ACTION_MARKER)[-1].strip()
    return filtered


def check_action(candidate: str, env: BalrogEnv) -> tuple[str, bool]:
    """(the action to execute, whether the candidate was valid): exact membership."""
    if env.accepts_any_action or candidate in env.language_action_space:
        return candidate, True
    return env.default_action, False


@dataclass
class _Event:
    kind: str  # "observation" | "action"
    text: str = ""  # observation: long-term context (feedback included); action: the action
    image: Image.Image | None = None
    reasoning: str | None = None  # CoT: the whole completion that chose this action


@dataclass
class AgentState:
    """One episode's BALROG agent: the instruction, the history, the failed candidates."""

    settings: AgentSettings
    instruction_prompt: str
    failed_candidates: list[str] = field(default_factory=list)
    _events: deque = field(init=False, repr=False)
    _short_term: str = field(default="", init=False, repr=False)
    _feedback: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        s = self.settings
        self._events = deque(maxlen=2 * max(s.max_text_history, s.max_image_history))

    # 1. the observation joins the history
    def observe(self, observation: BalrogObservation) -> None:
        self._short_term = observation.short_term_context
        text = self._feedback + observation.long_term_context
        self._feedback = ""
        self._events.append(_Event("observation", text, observation.image))

    # 2. the prompt
    def messages(self) -> list[Message]:
        """The prompt for the current observation, instruction appended to the last message."""
        s = self.settings
        events = list(self._events)
        if not events or events[-1].kind != "observation":
            raise RuntimeError("observe() an observation before asking for the prompt.")
        observations = [i for i, e in enumerate(events) if e.kind == "observation"]
        with_text = set(observations[::-1][: s.max_text_history])
        with_image = set(
            [i for i in observations if events[i].image is not None][::-1][: s.max_image_history]
        )
        planned = [i for i, e in enumerate(events) if e.kind == "action" and e.reasoning is not None]
        with_plan = set(planned[::-1][: s.max_cot_history])

        out = [Message("user", self.instruction_prompt)] if self.instruction_prompt else []
        for i, event in enumerate(events):
            if event.kind == "action":
                text = PREVIOUS_PLAN_LABEL + event.reasoning if i in with_plan else event.text
                out.append(Message("assistant", text))
                continue
            if i == len(events) - 1:
                parts = [CURRENT_OBSERVATION_LABEL] + ([self._short_term] if self._short_term else [])
            else:
                parts = [OBSERVATION_LABEL]
            if i in with_text:
                parts.append(event.text)
            image = event.image if i in with_image else None
            if image is not None:
                parts.append(IMAGE_NOTE)
            out.append(Message("user", "\n".join(parts), image))
        out[-1].text += "\n\n" + s.instruction
        return out

    def conversation(self, alternate_roles: bool = False) -> list[dict[str, Any]]:
        """:meth:`messages` in the Hugging Face chat format.

        ``alternate_roles`` is BALROG's client option of that name (default off): a message
        with the same role as the one before it is merged into it (its content parts
        appended), for chat templates that demand alternating roles (Gemma 3). BALROG's
        prompt otherwise starts with two user messages (instruction, first observation).
        """
        out: list[dict[str, Any]] = []
        for message in self.messages():
            chat = message.to_chat()
            if alternate_roles and out and out[-1]["role"] == chat["role"]:
                out[-1]["content"].extend(chat["content"])
            else:
                out.append(chat)
        return out

    # 3. the completion becomes an action
    def decide(self, completion: str, env: BalrogEnv) -> Decision:
        """Parse ``completion``, check it against ``env``'s actions, and remember it."""
        completion = completion.strip()
        candidate = parse_candidate(completion, self.settings.agent)
        action, valid = check_action(candidate, env)
        if not valid:
            self.failed_candidates.append(candidate)
            if self.settings.feedback_on_invalid_action:
                self._feedback = INVALID_ACTION_FEEDBACK.format(action=action)
        if candidate:  # BALROG adds no action to the history for an empty answer
            reasoning = completion if self.settings.agent == "cot" else None
            self._events.append(_Event("action", candidate, reasoning=reasoning))
        return Decision(completion, candidate, action, valid)
