"""The scripted oracle: search the goal's words, take the goal product (or one that scores 1),
choose the goal's options, buy.

It reads what the agent could read (the page kind, listed asins, clickable labels) plus the
goal and the catalogue, which the agent cannot see; it is for tests, demos and warm starts.
"""

from __future__ import annotations

import re

from vldac.envs.webshop.reward import purchase_reward

__all__ = ["best_options", "expert_action", "goal_query"]

MAX_RESULT_PAGES = 5
_PERFECT = 1.0 - 1e-9
_CLAUSES = re.compile(r"\s+with\s+|,\s*and price lower than", re.IGNORECASE)


def goal_query(goal: dict) -> str:
    """The instruction's words before its options and price clauses."""
    return _CLAUSES.split(goal["instruction_text"], maxsplit=1)[0].strip()


def best_options(product: dict, goal: dict) -> dict[str, str]:
    """For each goal option the product offers, {option name: goal value}."""
    chosen = {}
    for name, value in goal["goal_options"].items():
        if value in product["options"].get(name, []):
            chosen[name] = value
            continue
        other = next((n for n, vs in product["options"].items() if value in vs and n not in chosen),
                     None)  # human goals name options loosely
        if other is not None:
            chosen[other] = value
    return chosen


def _score(catalogue, goal: dict, asin: str) -> float:
    product = catalogue.by_asin[asin]
    return purchase_reward(product, goal, product["price"], best_options(product, goal)).reward


def expert_action(catalogue, goal: dict, page: dict, labels: list[str], has_search: bool) -> str:
    """The oracle's next action on ``page`` (the site's ``#shop-state``) as action text."""
    kind = page.get("page")
    if kind == "search" and has_search:
        return f"search[{goal_query(goal)}]"
    if kind == "results":
        asins = page.get("asins", [])
        if goal["asin"] in asins:
            return f"click[{goal['asin']}]"
        scores = [_score(catalogue, goal, a) for a in asins]
        if any(s >= _PERFECT for s in scores):
            return f"click[{asins[scores.index(max(scores))]}]"
        if "Next >" in labels and page.get("page_no", 1) < MAX_RESULT_PAGES:
            return "click[Next >]"
        if asins:
            return f"click[{asins[scores.index(max(scores))]}]"
        return "click[Back to Search]"
    if kind == "item":
        product = catalogue.by_asin[page["asin"]]
        for name, value in best_options(product, goal).items():
            if page.get("options", {}).get(name) != value:
                return f"click[{value}]"
        return "click[Buy Now]"
    if kind == "tab":
        return "click[< Prev]"
    return "click[Back to Search]"
