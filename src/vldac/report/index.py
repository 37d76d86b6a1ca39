"""The provenance index: one page listing every job's manifest (what ran, where, from what)."""

from __future__ import annotations

import html
import json
from pathlib import Path

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; vertical-align: top; text-align: left; }
th { background: #f0f0f0; } pre { margin: 0; font-size: 0.9em; }
"""


def _image(manifest: dict) -> str:
    image = manifest.get("image") or {}
    if image.get("digest"):
        return f"{image.get('image')} {image['digest'][:19]}"
    return f"host ({image.get('reason') or 'no image'})"


def write_index(manifest_files: list[str | Path], container_records: list[str | Path],
                out: str | Path) -> None:
    """A table with one row per job (rule, wildcards, commit, image, device, seed), each
    expanding to its full manifest, preceded by the container image of each family."""
    records = [json.loads(Path(p).read_text()) for p in container_records]
    rows = []
    for path in manifest_files:
        m = json.loads(Path(path).read_text())
        git = m.get("git") or {}
        commit = (git.get("commit") or "unknown")[:10] + (" (dirty)" if git.get("dirty") else "")
        cells = [m.get("job"), json.dumps(m.get("wildcards") or {}), commit, _image(m),
                 m.get("ran_in_image") or "host", m.get("device"), m.get("seed")]
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        body = html.escape(json.dumps(m, indent=2))
        rows.append(f"<tr>{tds}<td><details><summary>{html.escape(str(path))}</summary>"
                    f"<pre>{body}</pre></details></td></tr>")
    images = "".join(
        f"<li>{html.escape(r['family'])}: "
        + (html.escape(f"{r['image']} {r['digest']} ({r['runtime']})") if r["digest"]
           else html.escape(f"jobs ran on the host: {r['reason']}")) + "</li>" for r in records)
    page = (f"<!doctype html><meta charset='utf-8'><title>Provenance</title><style>{STYLE}</style>"
            f"<h1>Provenance of every job</h1><h2>Simulator images</h2><ul>{images}</ul>"
            "<h2>Jobs</h2><table><tr><th>job</th><th>wildcards</th><th>git commit</th>"
            "<th>image</th><th>ran in</th><th>device</th><th>seed</th><th>manifest</th></tr>"
            + "".join(rows) + "</table>")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page + "\n", encoding="utf-8")
