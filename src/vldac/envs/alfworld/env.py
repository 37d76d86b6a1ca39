"""ALFWorld behind the vldac env contract: text household tasks with admissible commands.

Each episode is one ALFWorld game (an ALFRED room, a task of one of six types), played through
the TextWorld engine that ``AlfredTWEnv`` uses. The agent sees RL4VLM's prompt: the last
feedback of the game, the task, and the admissible commands, and answers
``{"thoughts": ..., "action": <an admissible command>}``.

Data: ``data_dir`` if given, else ``$ALFWORLD_DATA`` (the official ``alfworld-download``
layout), else games generated once by :func:`~vldac.envs.alfworld.generate.generate_games` into
the user cache (``num_games`` / ``num_eval_games`` / ``data_seed`` choose which). Games are
found with AlfredTWEnv's own collector and sorted, so a seed picks the same game everywhere.
"""

from __future__ import annotations

import contextlib
import io
import operator
import os
import random
import re
from pathlib import Path

from PIL import Image, ImageDraw

# Imported at module level so that, without the extra, the registry names it.
from vldac.envs.alfworld.engine import EXPERTS, TextEngine
from vldac.envs.alfworld.generate import SPLITS, default_data_dir, generate_games
from vldac.envs.alfworld.tasks import resolve_task_types
from vldac.envs.base import Env, Observation, StepResult
from vldac.envs.parsing import extract_action, extract_json_dict
from vldac.envs.render import load_font, wrap_tokens

__all__ = ["AlfworldEnv", "INVALID_ACTION_RULES", "MODES", "find_games"]

INVALID_ACTION_RULES = ("penalty", "random")
MODES = ("text", "thor")
_TASK = re.compile(r"Your task is to:\s*(.*?)\s*$", re.DOTALL)
_ACTION_KEY = re.compile(r"""["']?\baction["']?\s*[:=]""", re.IGNORECASE)


def find_games(data_root: str | Path, split: str, task_types) -> list[str]:
    """Game files of ``split`` ("train", "seen", "unseen") under ``data_root``/json_2.1.1,
    as AlfredTWEnv collects them (solvable games of the given task types), sorted."""
    from alfworld.agents.environment.alfred_tw_env import TASK_TYPES, AlfredTWEnv

    folder = Path(data_root) / "json_2.1.1"
    ids = [i for i, name in TASK_TYPES.items() if name in task_types]
    config = {"env": {"goal_desc_human_anns_prob": 0, "task_types": ids},
              "dataset": {"data_path": str(folder / SPLITS["train"]),
                          "eval_id_data_path": str(folder / SPLITS["seen"]),
                          "eval_ood_data_path": str(folder / SPLITS["unseen"]),
                          "num_train_games": -1, "num_eval_games": -1}}
    train_eval = {"train": "train", "seen": "eval_in_distribution",
                  "unseen": "eval_out_of_distribution"}[split]
    # AlfredTWEnv prints progress and a tqdm bar; the game list is what matters here.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        games = AlfredTWEnv(config, train_eval=train_eval).game_files
    return sorted(games)


def render_text_image(text: str, size: int = 300) -> Image.Image:
    """``text`` drawn black on white in a ``size`` x ``size`` RGB image (cut at the bottom)."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    font = load_font(max(9, size // 24))
    line_height = font.getbbox("Ag")[3] + 3
    y = 6
    for paragraph in text.split("\n"):
        for line in wrap_tokens(paragraph.split(), font, size - 12) or [""]:
            if y + line_height > size:
                return image
            draw.text((6, y), line, fill="black", font=font)
            y += line_height
    return image


class AlfworldEnv(Env):
    """ALFWorld's text engine (AlfredTWEnv's games, wrappers and experts), one game at a time.

    Reward per step (spec 2.3, VL-DAC's compute_reward): ``won_weight * won +
    goal_condition_success_rate - (1 if the answer was not an admissible command)``;
    ``won_weight=50`` gives RL4VLM's reward. The episode terminates when won (success) and
    truncates after ``max_episode_steps`` (50, AlfredThorEnv's dagger limit).

    Answers are read without eval: the ``"action"`` value of a JSON answer (or the whole text)
    is matched to an admissible command (exact match, else the first admissible command found
    in it as a whole phrase; the longest wins a tie, so "cabinet 10" is not "cabinet 1").
    invalid_action (an answer that names no admissible command; ``parse_failed`` when it holds
    no action at all): "penalty" (default, the spec's rule): nothing is executed, the state is
    unchanged, the feedback reads "Nothing happens." and the step counts. "random": a uniformly
    random admissible command (from the episode's RNG) is executed instead. Either way the
    step's reward carries the -1.

    split: "train", "seen" (valid_seen) or "unseen" (valid_unseen). task_types: ALFWorld names,
    short names or numbers 1..6 (default all six). expert: "handcoded" (default), "planner"
    or None; the expert runs in a second engine that is only started when ``expert_action``
    is first called, so training pays nothing for it. render_text_image: also return the
    observation text drawn as an ``image_size`` square image. mode: "text" (default) or
    "thor", the paper's visual mode (needs the ``alfworld-thor`` extra; see :mod:`.thor`).
    """

    name = "alfworld/AlfredTWEnv-v0"

    def __init__(self, *, split: str = "train", data_dir: str | None = None, task_types=None,
                 won_weight: float = 1.0, max_episode_steps: int = 50,
                 invalid_action: str = "penalty", render_text_image: bool = False,
                 image_size: int = 300, expert: str | None = "handcoded", mode: str = "text",
                 num_games: int = 200, num_eval_games: int | None = None, data_seed: int = 0):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}.")
        if mode == "thor":
            from vldac.envs.alfworld.thor import require_thor

            require_thor()  # before any data work: a missing dependency is the first thing to say
        if split not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}.")
        if invalid_action not in INVALID_ACTION_RULES:
            raise ValueError(f"invalid_action must be one of {list(INVALID_ACTION_RULES)}, "
                             f"got {invalid_action!r}.")
        if expert is not None and expert not in EXPERTS:
            raise ValueError(f"expert must be one of {list(EXPERTS)} or None, got {expert!r}.")
        if isinstance(max_episode_steps, bool) or not isinstance(max_episode_steps, int) \
                or max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be a positive integer, got "
                             f"{max_episode_steps!r}.")
        self.split, self.mode, self.expert = split, mode, expert
        self.task_types = resolve_task_types(task_types)
        self.won_weight = float(won_weight)
        self.max_episode_steps = max_episode_steps
        self.invalid_action = invalid_action
        self.render_text_image, self.image_size = bool(render_text_image), int(image_size)
        root = data_dir or os.environ.get("ALFWORLD_DATA")
        if root is None and mode == "thor":
            raise FileNotFoundError("ALFWorld mode='thor' needs the official data; run "
                                    "alfworld-download and set ALFWORLD_DATA.")
        if root is None:
            eval_games = max(6, num_games // 10) if num_eval_games is None else num_eval_games
            root = generate_games(default_data_dir(num_games, eval_games, data_seed), num_games,
                                  data_seed, num_eval=eval_games)
        self.data_root = Path(root).expanduser()
        if mode == "thor":
            from vldac.envs.alfworld.thor import ThorEngine, find_thor_games

            self.games = find_thor_games(self.data_root, split)
        else:
            self.games = find_games(self.data_root, split, self.task_types)
        if not self.games:
            raise FileNotFoundError(
                f"No solvable ALFWorld games of {list(self.task_types)} in "
                f"{self.data_root / 'json_2.1.1'} ({split}); run `python -m "
                "vldac.envs.alfworld.generate --out DIR` and pass data_dir=DIR.")
        self._make_engine = TextEngine
        if mode == "thor":  # UNVERIFIED here (see .thor); its expert comes with each state
            self._engine = ThorEngine(split, max_episode_steps, self.image_size)
        else:
            self._engine = TextEngine(None)
        self._expert_engine = None
        self._expert_synced = -1  # commands replayed into the expert engine, -1: none
        self._expert_state = None
        self._rng: random.Random | None = None
        self._state = None
        self._commands: list[str] = []
        self._feedback = ""
        self._task = ""
        self._game = ""
        self._seed = 0
        self._steps = 0
        self._done = True

    # ----- the contract -----------------------------------------------------------------

    def reset(self, seed: int) -> Observation:
        """Start the game that ``seed`` picks from this split, from its initial state."""
        self._seed = operator.index(seed)
        self._rng = random.Random(self._seed)
        self._game = self.games[self._rng.randrange(len(self.games))]
        self._state = self._engine.reset(self._game, self._seed)
        self._commands, self._expert_synced = [], -1
        self._steps, self._done = 0, False
        match = _TASK.search(self._state.feedback)
        self._task = match.group(1).rstrip(".") if match else ""
        intro = self._state.feedback.split("=-", 1)[-1]
        self._feedback = _TASK.sub("", intro).strip()
        return self._observe()

    def step(self, text: str) -> StepResult:
        """Parse ``text`` into an admissible command, apply it (or the invalid rule), score."""
        self._check_can_step(started=self._rng is not None, done=self._done)
        self._steps += 1
        admissible = self._state.admissible
        command = extract_action(text, admissible)
        executed = command
        if command is None and self.invalid_action == "random":
            executed = self._rng.choice(admissible)
        if executed is None:
            self._feedback = "Nothing happens."
        else:
            self._state = self._engine.step(executed)
            self._commands.append(executed)
            self._feedback = self._state.feedback.strip()
        won, gc = self._state.won, self._state.goal_condition_success_rate
        reward = self.won_weight * won + gc - (0.0 if command is not None else 1.0)
        terminated = won
        truncated = not terminated and self._steps >= self.max_episode_steps
        self._done = terminated or truncated
        info = {"success": won, "action_is_valid": command is not None,
                "parse_failed": command is None and not _names_an_action(text),
                "action": executed, "won": won, "goal_condition_success_rate": gc,
                "game": str(Path(self._game).parent.relative_to(self.data_root)),
                "task": self._task}
        return StepResult(self._observe(), float(reward), terminated, truncated, info)

    def expert_action(self) -> str:
        """The next command of ALFWorld's expert (``expert``) in the current state."""
        if self.expert is None:
            raise NotImplementedError(f"{self.name} was made with expert=None.")
        if self._rng is None:
            raise RuntimeError(f"{self.name}: call reset(seed) before expert_action().")
        if self.mode == "thor":  # AlfredThorEnv's worker runs its handcoded expert itself
            return (self._state.expert_plan or ["look"])[0]
        if self._expert_engine is None:
            self._expert_engine = self._make_engine(self.expert)
        if self._expert_synced < 0:  # a new episode: replay it into the expert's engine
            self._expert_state = self._expert_engine.reset(self._game, self._seed)
            self._expert_synced = 0
        for command in self._commands[self._expert_synced:]:
            self._expert_state = self._expert_engine.step(command)
        self._expert_synced = len(self._commands)
        plan = [c for c in self._expert_state.expert_plan if c in self._state.admissible]
        return plan[0] if plan else "look"

    def close(self) -> None:
        """Release both engines (no processes are started, so none are left behind)."""
        for engine in (self._engine, self._expert_engine):
            if engine is not None:
                engine.close()
        self._expert_engine, self._expert_synced = None, -1

    # ----- observation ------------------------------------------------------------------

    @property
    def admissible_commands(self) -> list[str]:
        """The commands that are legal in the current state (sorted, as TextWorld gives them)."""
        return list(self._state.admissible) if self._state else []

    def _prompt(self) -> str:
        commands = "\n ".join(f"'{c}'" for c in self._state.admissible)
        # RL4VLM's ALFWorld prompt (spec 2.3), with its "Your are" typo fixed.
        return ("You are an expert in the ALFRED Embodied Environment. You are also given the "
                f"following text description of the current scene: ['{self._feedback}']. "
                f"Your task is to {self._task}. Your admissible actions of the current "
                f"situation are: [{commands}]. Your response should be a valid json file in "
                'the following format: \n{\n"thoughts": "{first describe what do you see in '
                "the image using the text description, then carefully think about which action "
                'to complete the task. }", \n"action": "{an admissible action}"\n}')

    def _observe(self) -> Observation:
        images = [self._engine.frame()] if self.mode == "thor" else []
        if self.render_text_image:
            text = f"{self._feedback}\n\nYour task is to: {self._task}."
            images.append(render_text_image(text, self.image_size))
        return Observation(text=self._prompt(), images=images)


def _names_an_action(text: str) -> bool:
    """Whether the answer states an action at all (an "action" field or label)."""
    if not isinstance(text, str):
        return False
    found = extract_json_dict(text)
    if found is not None and any(k.strip().lower() == "action" for k in found):
        return True
    return bool(_ACTION_KEY.search(text))
