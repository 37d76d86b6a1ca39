"""Starting, checking and stopping the shop site as a child process on a free loopback port.

The server binds port 0 itself and reports the port the OS gave it, so two shops (or any
other program) can never race for a port; a preferred ``port`` is used only if it is free.
A server counts as healthy when its process lives and ``GET /health`` answers within a few
seconds; a dead or hung one is killed and started again by :meth:`ShopServer.ensure_healthy`.

The child asks the kernel to send it SIGTERM when its parent thread exits
(PR_SET_PDEATHSIG), so a crashed trainer or worker never leaves a server behind. Envs call
this from the thread that owns them (the contract is single-threaded).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

__all__ = ["ServerStartError", "ShopServer", "port_is_free"]

_log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


class ServerStartError(RuntimeError):
    """The shop server could not be started (the message is one sentence)."""


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port`` and it can be bound."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not glibc Linux: the parent's close()/atexit still stops the server
        pass


class ShopServer:
    """One shop site process. ``base_url`` changes when the server is restarted."""

    def __init__(self, catalogue_path: Path, *, search: str = "bm25", product_window: int = 10,
                 index_dir: str | None = None, port: int | None = None,
                 start_timeout_s: float = 60.0, command: list[str] | None = None) -> None:
        self.command = command or [
            sys.executable, "-m", "vldac.envs.webshop.app", "--catalogue", str(catalogue_path),
            "--search", search, "--product-window", str(product_window),
        ] + (["--index-dir", index_dir] if index_dir else [])
        self.preferred_port = port
        self.start_timeout_s = start_timeout_s
        self.restarts = 0
        self.port: int | None = None
        self._proc: subprocess.Popen | None = None
        self._log = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        """Start the process and wait until it answers ``/health``; raise ServerStartError."""
        port = self.preferred_port if self.preferred_port and port_is_free(self.preferred_port) else 0
        if self.preferred_port and port == 0:
            _log.warning("port %s is busy; the shop takes a free port instead", self.preferred_port)
        self._log = tempfile.NamedTemporaryFile(prefix="vldac-webshop-", suffix=".log")
        self._proc = subprocess.Popen(
            [*self.command, "--port", str(port)], stdout=subprocess.PIPE, stderr=self._log,
            stdin=subprocess.DEVNULL, text=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + self.start_timeout_s
        try:
            self.port = self._read_port(deadline)
            while not self.healthy():
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    raise TimeoutError
                time.sleep(0.05)
        except (TimeoutError, ValueError):
            reason = self._failure_reason()
            self.stop()
            raise ServerStartError(
                f"The WebShop server did not start ({reason}); check that flask and rank_bm25 "
                "are installed (pip install 'vldac[webshop]') and that the catalogue is valid."
            ) from None

    def _read_port(self, deadline: float) -> int:
        assert self._proc is not None and self._proc.stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._proc.stdout], [], [], 0.1)
            if ready:
                line = self._proc.stdout.readline()
                if line.startswith("PORT "):
                    return int(line.split()[1])
                if not line:  # the process exited before listening
                    raise ValueError("no port")
            elif self._proc.poll() is not None:
                raise ValueError("exited")
        raise TimeoutError

    def _failure_reason(self) -> str:
        code = None
        if self._proc is not None:
            try:  # a process that closed its stdout is usually exiting: give it a moment
                code = self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        last = ""
        if self._log is not None:
            lines = [ln for ln in Path(self._log.name).read_text(errors="replace").splitlines()
                     if ln.strip()]
            last = lines[-1].strip() if lines else ""
        where = f"exit code {code}" if code is not None else f"no answer in {self.start_timeout_s} s"
        return f"{where}; last log line: {last!r}" if last else where

    def healthy(self, timeout_s: float = 3.0) -> bool:
        """Whether the process lives and answers ``GET /health`` within ``timeout_s``."""
        if self._proc is None or self._proc.poll() is not None or self.port is None:
            return False
        try:
            with urllib.request.urlopen(f"{self.base_url}/health", timeout=timeout_s) as reply:
                return json.load(reply).get("status") == "ok"
        except (OSError, ValueError):
            return False

    def ensure_healthy(self) -> bool:
        """Restart the server if it is dead or hung; return True if it was restarted."""
        if self.healthy():
            return False
        if self._proc is not None:
            _log.warning("WebShop server (pid %s) is dead or hung; restarting it", self.pid)
            self.restarts += 1
        self.stop(force=True)  # a hung (e.g. stopped) process may ignore SIGTERM
        self.start()
        return True

    def stop(self, force: bool = False) -> None:
        """Terminate the process (kill after 5 s, or at once if ``force``) and free its port;
        safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill() if force else proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        self.port = None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Testing aid: send ``sig`` to the server process (simulates a crash or a hang)."""
        if self._proc is not None:
            os.kill(self._proc.pid, sig)
