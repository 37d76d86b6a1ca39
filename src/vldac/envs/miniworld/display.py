"""Choosing how MiniWorld gets an OpenGL context on a machine without a screen.

MiniWorld renders with pyglet, and pyglet picks its window platform once, when
``pyglet.window``/``pyglet.gl`` are first imported (which ``import miniworld`` does). So the
choice must be made *before the first import of miniworld in the process*: setting
``pyglet.options["headless"]`` afterwards has no effect, and setting only
``PYOPENGL_PLATFORM=egl`` fails ("Cannot connect to None"). Env workers are fresh spawned
processes, so an env choosing its display in its constructor is early enough; in a process
that imported miniworld already, only the backend fixed by that import can be used.

Backends:

- ``"egl"``: pyglet's headless mode, an EGL context with no X server (Mesa's llvmpipe on a
  CPU-only machine; Debian packages libegl1 libegl-mesa0 libgl1-mesa-dri).
- ``"xvfb"``: an X server: ``$DISPLAY`` if one is set and works, otherwise a private Xvfb
  started for this process (Debian package xvfb) and stopped when the process exits.
- ``"auto"`` (default): EGL, then X.

Each backend is probed in a short subprocess first (about a second, once per process),
because a failed attempt inside this process would leave pyglet half-initialised.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import subprocess
import sys

__all__ = ["DISPLAY_MODES", "DisplayUnavailableError", "select_display"]

DISPLAY_MODES = ("auto", "egl", "xvfb")
_PROBE_TIMEOUT_S = 120
# What MiniWorld does at construction: open an invisible 1x1 window with a GL context.
_PROBE = (
    "import sys, pyglet\n"
    "pyglet.options['headless'] = sys.argv[1] == 'egl'\n"
    "import pyglet.window\n"
    "pyglet.window.Window(width=1, height=1, visible=False).close()\n"
)
_active: str | None = None  # the backend this process renders with, once chosen
_xvfb: subprocess.Popen | None = None


class DisplayUnavailableError(RuntimeError):
    """No OpenGL context could be opened for MiniWorld (neither EGL nor an X server)."""


def _probe(backend: str) -> str | None:
    """Open a GL window the way MiniWorld does, in a subprocess; None if it works, else why."""
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, backend], capture_output=True,
                              text=True, timeout=_PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"opening a window took over {_PROBE_TIMEOUT_S} s"
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {done.returncode}"


def _die_with_parent() -> None:
    # Linux: the Xvfb child gets SIGTERM when this process dies, even by SIGKILL.
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except OSError:
        pass


def _stop_xvfb() -> None:
    if _xvfb is not None and _xvfb.poll() is None:
        _xvfb.terminate()
        try:
            _xvfb.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _xvfb.kill()


def _start_xvfb() -> str | None:
    """Start a private Xvfb on a free display number and export DISPLAY; None or why not."""
    global _xvfb
    binary = shutil.which("Xvfb")
    if binary is None:
        return "Xvfb is not installed"
    read_fd, write_fd = os.pipe()
    # -displayfd makes Xvfb pick a free display itself and write its number to the pipe.
    proc = subprocess.Popen(
        [binary, "-displayfd", str(write_fd), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number.isdigit():
        proc.kill()
        return f"Xvfb exited with status {proc.wait()} before reporting a display"
    _xvfb = proc
    atexit.register(_stop_xvfb)
    os.environ["DISPLAY"] = f":{number}"
    return None


def _try_egl() -> str | None:
    return _probe("egl")


def _try_xvfb() -> str | None:
    if os.environ.get("DISPLAY"):
        reason = _probe("x")
        if reason is None:
            return None
        if _xvfb is not None:  # our own server is the one that failed
            return reason
    started = _start_xvfb()
    return started if started is not None else _probe("x")


_BACKENDS = {"egl": _try_egl, "xvfb": _try_xvfb}


def _fixed_backend() -> str | None:
    """The backend already fixed by an earlier import of pyglet's window/gl, if any."""
    if not any(m in sys.modules for m in ("pyglet.window", "pyglet.gl", "miniworld")):
        return None
    import pyglet

    return "egl" if pyglet.options["headless"] else "xvfb"


def select_display(mode: str = "auto") -> str:
    """Make this process able to render MiniWorld; return the backend used ("egl"/"xvfb").

    Must run before the first ``import miniworld`` of the process (see the module docstring).
    Idempotent: later calls return the backend already chosen. Raises ValueError for an
    unknown ``mode``, RuntimeError when ``mode`` conflicts with the backend an earlier import
    fixed, and :class:`DisplayUnavailableError` when no backend works.
    """
    global _active
    if mode not in DISPLAY_MODES:
        raise ValueError(f"display must be one of {list(DISPLAY_MODES)}, got {mode!r}.")
    fixed = _active or _fixed_backend()
    if fixed is not None and mode not in ("auto", fixed):
        raise RuntimeError(
            f"This process already set up pyglet for {fixed!r} (pyglet's platform is fixed at "
            f"the first import of miniworld), so display={mode!r} cannot apply; use "
            f"display='auto' or {fixed!r} here, or build the env in a fresh process."
        )
    if _active is not None:
        return _active
    candidates = [fixed] if fixed else (["egl", "xvfb"] if mode == "auto" else [mode])
    failures = []
    for backend in candidates:
        reason = _BACKENDS[backend]()
        if reason is None:
            import pyglet

            if fixed is None:
                pyglet.options["headless"] = backend == "egl"
            _active = backend
            return backend
        failures.append(f"{backend}: {reason}")
    raise DisplayUnavailableError(
        f"MiniWorld could not open an OpenGL context ({'; '.join(failures)}); install the "
        "Debian packages libegl1 libegl-mesa0 libgl1-mesa-dri for headless EGL, or xvfb for "
        "an X fallback, then retry."
    )
