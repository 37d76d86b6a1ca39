"""N environments stepped in parallel worker processes.

Each worker process hosts a contiguous slice of the N envs and steps them in turn; the
trainer sends one command per worker and gathers the replies, so all workers run at once.
Workers import only ``vldac.envs`` (no torch), so they start fast and stay small.

A worker that dies (segfaulting simulator, killed process) or an env that raises is not
fatal: the worker is restarted, and every env it hosted is reported in ``crashed`` so the
caller can discard those episodes and start new ones; the rest of the batch is kept.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from dataclasses import dataclass
from typing import Any

from vldac.envs import Env, Observation, StepResult, make

_CRASH = "__crash__"


@dataclass
class EnvSpec:
    """How to build one environment: a registered name and its constructor arguments."""

    name: str
    kwargs: dict[str, Any]

    def build(self) -> Env:
        return make(self.name, **self.kwargs)


def _run_command(envs: dict[int, Env], spec: EnvSpec, command: str, payload: dict[int, Any]):
    """Apply one command to the envs of this worker; an env that raises is rebuilt and
    reported as a crash (its state is lost) instead of killing the worker."""
    replies: dict[int, Any] = {}
    for idx, arg in payload.items():
        try:
            if command == "reset":
                replies[idx] = envs[idx].reset(arg)
            elif command == "step":
                replies[idx] = envs[idx].step(arg)
            elif command == "replay":
                seed, texts = arg
                observations = [envs[idx].reset(seed)]
                observations += [envs[idx].step(t).observation for t in texts]
                replies[idx] = observations
            else:
                raise ValueError(f"unknown worker command {command!r}")
        except Exception:  # noqa: BLE001 - any simulator failure is reported, not raised here
            replies[idx] = (_CRASH, traceback.format_exc())
            try:
                envs[idx].close()
            finally:
                envs[idx] = spec.build()
    return replies


def _worker(conn, spec: EnvSpec, indices: list[int]) -> None:
    envs = {i: spec.build() for i in indices}
    try:
        while True:
            command, payload = conn.recv()
            if command == "close":
                break
            if command == "crash":  # used by tests to simulate a dying simulator process
                import os

                os._exit(1)
            conn.send(_run_command(envs, spec, command, payload))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        for env in envs.values():
            env.close()


class VectorEnv:
    """``num_envs`` envs of one spec, in ``num_workers`` processes (0 = in this process).

    All methods take a dict {env index: argument} and return {env index: reply} plus the
    set of env indices whose episode was lost to a crash (their replies are missing).
    """

    def __init__(self, spec: EnvSpec, num_envs: int, num_workers: int = 0):
        self.spec = spec
        self.num_envs = num_envs
        self.restarts = 0
        self._slices: list[list[int]] = []
        if num_workers == 0:
            self._local = {i: spec.build() for i in range(num_envs)}
            return
        self._local = None
        self._ctx = mp.get_context("spawn")
        per = -(-num_envs // num_workers)
        self._slices = [list(range(s, min(s + per, num_envs))) for s in range(0, num_envs, per)]
        self._procs: list[Any] = [None] * len(self._slices)
        self._conns: list[Any] = [None] * len(self._slices)
        for w in range(len(self._slices)):
            self._start(w)

    def _start(self, w: int) -> None:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker, args=(child, self.spec, self._slices[w]),
                                 daemon=True, name=f"vldac-env-worker-{w}")
        proc.start()
        child.close()
        self._procs[w], self._conns[w] = proc, parent

    def _restart(self, w: int) -> None:
        self.restarts += 1
        self._procs[w].kill()
        self._procs[w].join(timeout=5)
        self._start(w)

    # -- commands ---------------------------------------------------------------------------
    def _call(self, command: str, payload: dict[int, Any]) -> tuple[dict[int, Any], set[int]]:
        if self._local is not None:
            replies = _run_command(self._local, self.spec, command, payload)
            return self._split_crashes(replies)
        sent: list[int] = []
        for w, indices in enumerate(self._slices):
            part = {i: payload[i] for i in indices if i in payload}
            if not part:
                continue
            try:
                self._conns[w].send((command, part))
                sent.append(w)
            except (BrokenPipeError, OSError):
                sent.append(w)  # discovered dead on receive below
        replies: dict[int, Any] = {}
        crashed: set[int] = set()
        for w in sent:
            try:
                replies.update(self._conns[w].recv())
            except (EOFError, ConnectionResetError, BrokenPipeError, OSError):
                # The whole worker died: all of its envs lose their episodes.
                self._restart(w)
                crashed.update(self._slices[w])
        ok, env_crashed = self._split_crashes(replies)
        return ok, crashed | env_crashed

    @staticmethod
    def _split_crashes(replies: dict[int, Any]) -> tuple[dict[int, Any], set[int]]:
        crashed = {i for i, r in replies.items() if isinstance(r, tuple) and r and r[0] == _CRASH}
        return {i: r for i, r in replies.items() if i not in crashed}, crashed

    def reset(self, seeds: dict[int, int]) -> tuple[dict[int, Observation], set[int]]:
        return self._call("reset", seeds)

    def step(self, texts: dict[int, str]) -> tuple[dict[int, StepResult], set[int]]:
        return self._call("step", texts)

    def replay(self, episodes: dict[int, tuple[int, list[str]]]
               ) -> tuple[dict[int, list[Observation]], set[int]]:
        """Re-create mid-episode states: reset(seed) then step each text again.

        Returns every observation along the way (reset first), for rebuilding histories.
        """
        return self._call("replay", episodes)

    def kill_worker_of(self, env_index: int) -> None:
        """Testing aid: make the worker hosting ``env_index`` exit abruptly."""
        w = next(w for w, s in enumerate(self._slices) if env_index in s)
        self._conns[w].send(("crash", None))
        self._procs[w].join(timeout=10)

    def close(self) -> None:
        if self._local is not None:
            for env in self._local.values():
                env.close()
            return
        for w, conn in enumerate(self._conns):
            try:
                conn.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
            self._procs[w].join(timeout=5)
            if self._procs[w].is_alive():
                self._procs[w].kill()

    def __enter__(self) -> VectorEnv:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
