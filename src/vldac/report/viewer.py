"""Rollout viewer: one self-contained HTML page per checkpoint, episode by episode, step by
step: the frame the model saw, its answer (thoughts and action), the parsed action, the reward.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; vertical-align: top; text-align: left; }
th { background: #f0f0f0; }
img { max-width: 224px; image-rendering: pixelated; }
pre { white-space: pre-wrap; max-width: 40em; margin: 0; }
.win { color: #1a7f37; } .loss { color: #b42318; }
"""


def _image_tag(frames_dir: Path, name: str) -> str:
    path = frames_dir / name
    if not name or not path.is_file():
        return "<em>no image</em>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>"


def episode_html(episode: dict[str, Any], frames_dir: Path) -> str:
    """One episode as a heading and a table of its steps."""
    outcome = "success" if episode["success"] else "no success"
    cls = "win" if episode["success"] else "loss"
    head = (f"<h3>seed {episode['seed']}: <span class='{cls}'>{outcome}</span>, return "
            f"{episode['episode_return']:.3g}, {episode['length']} steps</h3>")
    rows, total = [], 0.0
    frames = episode.get("frames") or []
    for t, (text, action, reward) in enumerate(zip(episode["texts"], episode["actions"],
                                                   episode["rewards"], strict=True)):
        total += reward
        frame = _image_tag(frames_dir, frames[t]) if t < len(frames) else "<em>not saved</em>"
        rows.append(f"<tr><td>{t}</td><td>{frame}</td><td><pre>{html.escape(text)}</pre></td>"
                    f"<td>{html.escape(str(action))}</td><td>{reward:+.3g}</td>"
                    f"<td>{total:+.3g}</td></tr>")
    table = ("<table><tr><th>step</th><th>frame the model saw</th><th>model output</th>"
             "<th>parsed action</th><th>reward</th><th>return so far</th></tr>"
             + "".join(rows) + "</table>")
    return head + table


def write_viewer(title: str, summary_lines: list[str],
                 runs: list[tuple[str, dict[str, Any], Path]], out: str | Path,
                 max_episodes: int = 3) -> None:
    """Write the viewer page: for each (decoding, eval JSON, frames folder) in ``runs`` its
    summary and its first ``max_episodes`` episodes, step by step. Frames are embedded, so
    the page needs nothing beside it."""
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style><h1>{html.escape(title)}</h1>"]
    parts += [f"<p>{html.escape(line)}</p>" for line in summary_lines]
    for decoding, data, frames_dir in runs:
        s = data["summary"]
        parts.append(f"<h2>{html.escape(decoding)} decoding: success {s['success_rate']:.3g} "
                     f"over {s['episodes']} held-out episodes</h2>")
        for episode in data["episodes"][:max_episodes]:
            parts.append(episode_html(episode, frames_dir))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
