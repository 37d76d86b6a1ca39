"""The paper's visual ALFWorld mode: AlfredThorEnv's THOR simulator behind the same engine API.

UNVERIFIED: written against alfworld 0.4.2's ``AlfredThorEnv`` source but never run here. It
needs what a CPU sandbox cannot give: ai2thor 2.1.0's Unity build (downloaded by ai2thor on
first use, ~500 MB), an X server (``xvfb-run -s "-screen 0 1024x768x24"`` works on headless
machines), and the official ALFWorld data (``alfworld-download``; generated games have no THOR
scene poses). Install with ``pip install 'vldac[alfworld-thor]'``.

What matches the paper's setup (spec 2.3): 300x300 frames, the oracle controller, task types
1-6, templated goals, the dagger time limit of 50 steps, the same reward and prompt as the
text mode, and one frame per step as the observation image. THOR frames come back BGR from
AlfredThorEnv (``frame[:, :, ::-1]``); this mode flips them back to RGB, as RL4VLM did.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from vldac.envs.alfworld.engine import GameState

__all__ = ["ThorEngine", "require_thor", "thor_config"]

_NEEDS = ("ai2thor", "cv2")


def require_thor() -> None:
    """Raise ImportError, in one sentence, unless THOR mode's packages are importable."""
    missing = [name for name in _NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"ALFWorld mode='thor' needs {', '.join(missing)} (ai2thor 2.1.0 with its Unity "
            "build and an X server); install it with: pip install 'vldac[alfworld-thor]' "
            "and run under xvfb-run, or use mode='text'.")


def thor_config(max_episode_steps: int = 50, size: int = 300) -> dict:
    """The parts of RL4VLM's alf_config.yaml that AlfredThorEnv's worker reads."""
    return {"env": {"thor": {"screen_height": size, "screen_width": size, "smooth_nav": False,
                             "save_frames_to_disk": False, "save_frames_path": "/tmp/alfworld"},
                    "goal_desc_human_anns_prob": 0, "type": "AlfredThorEnv"},
            "controller": {"type": "oracle", "debug": False, "load_receps": True},
            "mask_rcnn": {"pretrained_model_path": ""},
            "general": {"training_method": "dagger"},
            "dagger": {"training": {"max_nb_steps_per_episode": max_episode_steps}}}


def find_thor_games(data_root: str | Path, split: str) -> list[str]:
    """traj_data.json files of the official data for ``split`` (THOR needs their scenes)."""
    from vldac.envs.alfworld.generate import SPLITS

    folder = Path(data_root) / "json_2.1.1" / SPLITS[split]
    return sorted(str(p) for p in folder.rglob("traj_data.json")
                  if "movable" not in str(p) and "Sliced" not in str(p))


class ThorEngine:
    """One AlfredThorEnv worker (a THOR Unity process) driven synchronously."""

    def __init__(self, split: str, max_episode_steps: int = 50, size: int = 300) -> None:
        require_thor()
        from queue import Queue

        from alfworld.agents.environment.alfred_thor_env import AlfredThorEnv

        self._queue = Queue()
        train_eval = "train" if split == "train" else "eval_out_of_distribution"
        self._worker = AlfredThorEnv.Thor(self._queue, train_eval)
        self._worker.daemon = True
        self._worker.start()
        self._worker.init_env(thor_config(max_episode_steps, size))

    def _run(self, action, reset: bool, task_file: str) -> GameState:
        self._queue.put((action, reset, task_file))
        self._queue.join()
        feedback, _, admissible, won, gc, expert = self._worker.get_results()
        return GameState(feedback=feedback, admissible=sorted(admissible), won=bool(won),
                         goal_condition_success_rate=float(gc), expert_plan=list(expert))

    def reset(self, task_file: str, seed: int = 0, plan: bool = False) -> GameState:
        return self._run(None, True, task_file)

    def step(self, command: str) -> GameState:
        return self._run(command, False, "")

    def frame(self):
        """The current 300x300 frame as an RGB PIL image."""
        from PIL import Image

        bgr = self._worker.get_last_frame()
        return Image.fromarray(bgr[:, :, ::-1].copy())

    def close(self) -> None:
        """Stop the Unity process."""
        if self._worker.env is not None:
            self._worker.env.stop()
