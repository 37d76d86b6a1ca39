"""WebShop's matching score for a purchase, in [0, 1] (Yao et al. 2022, section 3.1).

    r = (|U_att ∩ Y_att| + |U_opt ∩ Y_opt| + 1[y_price <= u_price])
        / (|U_att| + |U_opt| + 1) * r_type

Facts read from the public WebShop code (princeton-nlp/WebShop, engine/goal.py):

- A goal attribute matches if some product attribute has ``token_set_ratio > 85``
  (thefuzz, i.e. rapidfuzz with lower-casing and punctuation stripped), or else if the
  attribute is a substring of the lower-cased title, bullet points or description.
- Each *purchased* option value (colour-normalised) matches if: for ``size``, it equals a
  goal option exactly; otherwise some goal option has ``token_set_ratio > 85``; or else it
  is a substring of the lower-cased title, bullet points or description. The denominator
  counts goal options, so the score stays in [0, 1] only when the buyer picks at most one
  value per goal option, which the site enforces (one value per option name).
- r_type = 1, except 0.5 when none of (same search query, >= 2 shared category levels,
  title score > 0.2) holds; 0.1 when the title score < 0.1; 0 when it is 0. The title score
  is the fraction of the goal title's nouns that also occur in the purchased title.

Deviation (documented): WebShop finds nouns with spaCy's ``en_core_web_lg`` tagger, which
cannot be downloaded here. We use content words instead: lower-cased alphabetic tokens of two
or more letters that are not stop words. For a product bought by its own goal the score is 1
either way; across products it is a close but not identical proxy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

__all__ = ["RewardBreakdown", "content_words", "normalize_color", "purchase_reward", "type_reward"]

EXACT_MATCH_OPTIONS = ("size",)
FUZZY_THRESHOLD = 85
# Colour words, alphabetical: an option value is normalised to the first one it contains
# (WebShop's normalize_color does the same with its own list; ours is written from scratch).
COLOR_WORDS = (
    "apricot", "aqua", "beige", "black", "blue", "blush", "bronze", "brown", "burgundy",
    "camel", "camo", "charcoal", "chocolate", "coffee", "copper", "coral", "cream", "fuchsia",
    "gold", "gray", "green", "grey", "ivory", "khaki", "lavender", "lilac", "lime", "magenta",
    "maroon", "mint", "mustard", "navy", "nude", "olive", "orange", "peach", "pink", "plum",
    "purple", "red", "rose", "rust", "silver", "tan", "teal", "turquoise", "violet", "white",
    "wine", "yellow",
)  # fmt: skip
_STOP_WORDS = frozenset(
    "a an and are as at be but by for from has have in into is it its of on or our that the "
    "their this to with without your you we i my me pack set count size color ounce oz inch "
    "lb pcs piece pieces new".split()
)
_WORD = re.compile(r"[a-z]{2,}")


@dataclass(frozen=True)
class RewardBreakdown:
    """The score and its parts (kept for logging and for the done page)."""

    reward: float
    r_type: float
    attribute_matches: int
    option_matches: int
    price_ok: bool
    title_score: float


def normalize_color(value: str) -> str:
    """The first colour word contained in ``value``, or ``value`` itself if there is none."""
    return next((color for color in COLOR_WORDS if color in value), value)


def content_words(title: str) -> list[str]:
    """The stand-in for spaCy nouns: lower-cased alphabetic non-stop words, in order."""
    return [w for w in _WORD.findall(title.lower()) if w not in _STOP_WORDS]


def _fuzzy(a: str, b: str) -> bool:
    # thefuzz rounds rapidfuzz's float score to an int before comparing.
    return round(fuzz.token_set_ratio(a, b, processor=default_process)) > FUZZY_THRESHOLD


def _in_text(value: str, product: dict) -> bool:
    return (
        value in product["title"].lower()
        or value in " ".join(product["bullet_points"]).lower()
        or value in product["description"].lower()
    )


def type_reward(product: dict, goal: dict) -> tuple[float, float]:
    """(r_type, title_score) of buying ``product`` for ``goal`` (rules in the module doc)."""
    query_match = product["query"] == goal["query"]
    levels = {x.strip() for x in product["product_category"].split("›")}
    goal_levels = {x.strip() for x in goal["product_category"].split("›")}
    category_match = len(levels & goal_levels) >= 2
    bought, wanted = set(content_words(product["title"])), content_words(goal["name"])
    title_score = 0.2 if not wanted else len(bought & set(wanted)) / len(wanted)
    r_type = 1.0
    if not (query_match or category_match or title_score > 0.2):
        r_type = 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return r_type, title_score


def purchase_reward(product: dict, goal: dict, price: float, options: dict[str, str]
                    ) -> RewardBreakdown:
    """Score buying ``product`` at ``price`` with ``options`` ({name: value}) for ``goal``.

    ``product`` and ``goal`` are catalogue dicts (see catalogue.py); the result is in [0, 1]
    whenever ``options`` has at most as many entries as the goal has options.
    """
    r_type, title_score = type_reward(product, goal)
    attribute_matches = 0
    for wanted in goal["attributes"]:
        if any(_fuzzy(have, wanted) for have in product["attributes"]) or _in_text(wanted, product):
            attribute_matches += 1
    goal_options = [normalize_color(v) for v in goal["goal_options"].values()]
    option_matches = 0
    for name, value in options.items():
        value = normalize_color(value)
        if name.lower() in EXACT_MATCH_OPTIONS:
            matched = value in goal_options
        else:
            matched = any(_fuzzy(g, value) for g in goal_options)
        if matched or _in_text(value, product):
            option_matches += 1
    price_ok = price <= goal["price_upper"]
    total = len(goal["attributes"]) + len(goal_options) + 1
    reward = (attribute_matches + option_matches + int(price_ok)) / total * r_type
    return RewardBreakdown(reward, r_type, attribute_matches, option_matches, price_ok, title_score)
