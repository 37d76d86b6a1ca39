"""Checkpoints that resume bit-for-bit, written atomically.

A checkpoint is a folder ``checkpoints/update_000010/`` holding
  adapter/              the LoRA adapter in peft's format (loadable on its own downstream),
  value_head.safetensors
  trainer_state.pt      optimiser, scheduler, RNG states, counters, env replay logs,
                        metric history, and ``world_size``: the number of data-parallel
                        processes that wrote it (absent in older checkpoints = 1). With
                        more than one, ``ranks[r]`` holds rank r's env replay logs, RNG
                        states and weights digest; the top-level ``collector`` / ``rng``
                        are rank 0's.
It is written under a temporary name and renamed into place, then ``checkpoints/latest``
is replaced atomically: a run killed mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from vldac.models.policy import VLMPolicy


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(root: Path, update: int, policy: VLMPolicy, trainer_state: dict[str, Any]) -> Path:
    """Write checkpoint ``update`` under ``root`` atomically; returns its folder."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"update_{update:06d}"
    tmp = root / f".tmp_update_{update:06d}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    policy.model.save_pretrained(tmp / "adapter")
    save_file({k: v.contiguous() for k, v in policy.value_head.state_dict().items()},
              tmp / "value_head.safetensors")
    torch.save({**trainer_state, "trainable": policy.trainable_state_dict()},
               tmp / "trainer_state.pt")
    if final.exists():  # a re-run of the same update after a resume: replace ours only
        shutil.rmtree(final)
    os.replace(tmp, final)
    latest_tmp = root / ".latest.tmp"
    latest_tmp.write_text(final.name + "\n")
    os.replace(latest_tmp, root / "latest")
    return final


def latest_checkpoint(root: Path) -> Path | None:
    pointer = root / "latest"
    if not pointer.is_file():
        return None
    path = root / pointer.read_text().strip()
    return path if (path / "trainer_state.pt").is_file() else None


def checkpoint_world_size(path: Path) -> int:
    """How many training processes wrote checkpoint ``path`` (memory-mapped: cheap)."""
    state = torch.load(path / "trainer_state.pt", map_location="cpu", weights_only=False,
                       mmap=True)
    return int(state.get("world_size", 1))


def load_checkpoint(path: Path, policy: VLMPolicy) -> dict[str, Any]:
    """Restore the trainable weights into ``policy``; return the trainer state."""
    state = torch.load(path / "trainer_state.pt", map_location="cpu", weights_only=False)
    # The exact tensors (adapter + head) live in trainer_state.pt; the adapter/ and
    # value_head.safetensors copies are for downstream use.
    policy.load_trainable_state_dict(state.pop("trainable"))
    return state
