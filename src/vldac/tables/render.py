"""Tables as CSV (for tools) and as self-contained HTML pages (for the report)."""

from __future__ import annotations

import csv
import html
from pathlib import Path
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-size: 0.86em; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.none { color: #999; }
p.note { max-width: 60em; }
"""


def visible_columns(rows: list[dict[str, Any]]) -> list[str]:
    """Columns meant for readers: everything but the raw ``*_value``/``*_std`` numbers."""
    return [c for c in rows[0] if not c.endswith(("_value", "_std"))] if rows else []


def write_csv(rows: list[dict[str, Any]], path: str | Path) -> None:
    """All columns, raw numbers included; rows of different tables share one header (the
    union of their columns, in order of appearance). An empty file with no rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        if rows:
            writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
            writer.writeheader()
            writer.writerows(rows)


def _md_cell(value: Any) -> str:
    return ("" if value is None else str(value)).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """A GitHub-flavoured Markdown table of the visible columns ("No rows." when empty)."""
    if not rows:
        return "_No rows._\n"
    cols = visible_columns(rows)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_md_cell(row[c]) for c in cols) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_markdown(title: str, note: str, rows: list[dict[str, Any]], path: str | Path) -> None:
    """One table as a Markdown page: a heading, a note, the table."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {title}\n\n{note}\n\n{markdown_table(rows)}", encoding="utf-8")


def html_table(rows: list[dict[str, Any]]) -> str:
    """One <table> of the visible columns; an explicit line when there are no rows."""
    if not rows:
        return "<p><em>No rows.</em></p>"
    cols = visible_columns(rows)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for row in rows:
        cells = []
        for c in cols:
            text = "" if row[c] is None else str(row[c])
            cls = ' class="none"' if text in ("", "—") else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def write_html(sections: list[tuple[str, str, list[dict[str, Any]]]], title: str,
               path: str | Path, preface: str = "") -> None:
    """A page of (heading, explanation, rows) sections; ``preface`` is trusted HTML."""
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style><h1>{html.escape(title)}</h1>{preface}"]
    for heading, note, rows in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2><p class='note'>{html.escape(note)}</p>")
        parts.append(html_table(rows))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
