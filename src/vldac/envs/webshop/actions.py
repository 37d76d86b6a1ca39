"""Reading ``search[...]`` / ``click[...]`` out of a model's answer, without ``eval()``.

If the answer holds a dict with an ``action`` key (read by parsing.extract_json_dict), only
that value counts; otherwise the first ``search[...]`` or ``click[...]`` in the text does.
Matching a click target to the page is case- and whitespace-insensitive; a product can be
clicked by its asin (the link text, as in WebShop) or by its exact title.
"""

from __future__ import annotations

import re

from vldac.envs.parsing import extract_json_dict

__all__ = ["match_label", "parse_action"]

_WHOLE = re.compile(r"^\s*(search|click)\s*\[(.*)\]\s*[.!]?\s*$", re.IGNORECASE | re.DOTALL)
_ANYWHERE = re.compile(r"\b(search|click)\s*\[([^\[\]]*)\]", re.IGNORECASE)


def _read(value: str) -> tuple[str, str] | None:
    match = _WHOLE.match(value) or _ANYWHERE.search(value)
    if match is None:
        return None
    kind, arg = match.group(1).lower(), " ".join(match.group(2).split())
    return (kind, arg) if arg else None


def parse_action(text: str) -> tuple[str, str] | None:
    """``("search", query)`` or ``("click", target)`` from ``text``, or None if unreadable."""
    if not isinstance(text, str):
        return None
    found = extract_json_dict(text)
    if found is not None:
        value = next((v for k, v in found.items() if k.strip().lower() == "action"), None)
        if value is not None:
            return _read(value) if isinstance(value, str) else None
    return _read(text)


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def match_label(target: str, labels: list[str], titles: dict[str, str]) -> int | None:
    """The index in ``labels`` that ``target`` clicks, or None if it names nothing there.

    ``titles`` maps the asins listed on the page to their titles, so that clicking a
    product by title works as well as by asin.
    """
    wanted = _norm(target)
    for i, label in enumerate(labels):
        if _norm(label) == wanted:
            return i
    for asin, title in titles.items():
        if _norm(title) == wanted and asin in labels:
            return labels.index(asin)
    return None
