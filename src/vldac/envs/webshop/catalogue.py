"""The shop's products and goals: from the official WebShop files or from the generator.

Both sources are converted to one normalised form and cached on disk as JSON, which the
site's server process reads back, so the env and the server always see the same catalogue.

Product: asin, title, category, query, product_category ('A › B › C'), price (float),
price_tag (what the page shows), options {name: [values]}, attributes, bullet_points,
description.
Goal: asin (the product it was written for), name (that product's title), category, query,
product_category, instruction_text, attributes, goal_options {name: value}, price_upper,
weight.

Official files (WebShop's ``data/`` folder; facts from princeton-nlp/WebShop engine.py and
goal.py): ``items_shuffle.json`` (or ``items_shuffle_1000.json``) holds the products;
``items_ins_v2.json`` maps asin -> {attributes, instruction, instruction_attributes};
``items_human_ins.json`` maps asin -> [{instruction, instruction_attributes,
instruction_options}]. A range price '$a - $b' is bought at a price drawn uniformly in
[a, b] as in WebShop, but from an RNG seeded by the asin, so it is the same on every run.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

__all__ = ["PRICE_RANGE", "Catalogue", "cache_dir", "load_catalogue", "price_upper_for"]

# WebShop's goal price bounds: multiples of 10 dollars up to 990.
PRICE_RANGE = [10.0 * i for i in range(1, 100)]
NO_PRICE_LIMIT = 1_000_000.0
_CACHE_VERSION = 1
_OFFICIAL_PRODUCTS = ("items_shuffle.json", "items_shuffle_1000.json")


@dataclass
class Catalogue:
    """Products (with an asin index) and goals, plus where they came from and the cache file."""

    products: list[dict]
    goals: list[dict]
    source: str
    path: Path

    def __post_init__(self) -> None:
        self.by_asin = {p["asin"]: p for p in self.products}


def cache_dir() -> Path:
    """``$VLDAC_CACHE/webshop`` or ``~/.cache/vldac/webshop`` (created if missing)."""
    root = Path(os.environ.get("VLDAC_CACHE") or Path.home() / ".cache" / "vldac")
    path = root / "webshop"
    path.mkdir(parents=True, exist_ok=True)
    return path


def price_upper_for(price: float, rng: random.Random) -> float:
    """WebShop's goal price limit: the larger of two of the first four bounds above ``price``."""
    above = [p for p in PRICE_RANGE if p > price][:4]
    if len(above) < 2:
        return NO_PRICE_LIMIT
    return max(rng.sample(above, 2))


def _asin_rng(asin: str, salt: str) -> random.Random:
    digest = hashlib.sha256(f"{salt}:{asin}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _official_product(raw: dict, attrs: dict) -> dict | None:
    asin = raw.get("asin", "nan")
    if asin == "nan" or len(asin) > 10:
        return None
    pricing = raw.get("pricing")
    prices = [float(Decimal(re.sub(r"[^\d.]", "", p))) for p in (pricing or "").split("$")[1:]
              if re.sub(r"[^\d.]", "", p)] or [100.0]
    if len(prices) == 1:
        price, tag = prices[0], f"${prices[0]}"
    else:
        price = round(_asin_rng(asin, "price").uniform(*prices[:2]), 2)
        tag = f"${prices[0]} to ${prices[1]}"
    options = {}
    for name, contents in (raw.get("customization_options") or {}).items():
        if contents:
            options[name.lower()] = [
                c["value"].strip().replace("/", " | ").lower() for c in contents]
    bullets = raw.get("small_description") or []
    return {
        "asin": asin, "title": raw.get("name", ""), "category": raw.get("category", ""),
        "query": raw.get("query", "").lower().strip(),
        "product_category": raw.get("product_category", ""), "price": price, "price_tag": tag,
        "options": options,
        "attributes": attrs.get(asin, {}).get("attributes") or ["DUMMY_ATTR"],
        "bullet_points": bullets if isinstance(bullets, list) else [bullets],
        "description": raw.get("full_description") or "",
    }


def _goal(product: dict, text: str, attributes: list, options, price_rng) -> dict:
    upper = price_upper_for(product["price"], price_rng)
    if upper < NO_PRICE_LIMIT:
        text = f"{text}, and price lower than {upper:.2f} dollars"
    if not isinstance(options, dict):  # human goals list values; name them by the product
        named = {}
        for i, value in enumerate(options or []):
            name = next((n for n, vs in product["options"].items() if value in vs), f"option {i}")
            named.setdefault(name, value)
        options = named
    return {
        "asin": product["asin"], "name": product["title"], "category": product["category"],
        "query": product["query"], "product_category": product["product_category"],
        "instruction_text": text, "attributes": list(attributes), "goal_options": options,
        "price_upper": upper, "weight": 1.0,
    }


def _load_official(data_dir: Path, num_products: int | None, human_goals: bool) -> dict:
    products_file = next((data_dir / f for f in _OFFICIAL_PRODUCTS if (data_dir / f).is_file()),
                         None)
    attrs_file = data_dir / "items_ins_v2.json"
    human_file = data_dir / "items_human_ins.json"
    needed = [attrs_file] + ([human_file] if human_goals else [])
    if products_file is None or not all(f.is_file() for f in needed):
        raise FileNotFoundError(
            f"data_dir {data_dir} must hold items_shuffle.json (or items_shuffle_1000.json), "
            f"items_ins_v2.json{' and items_human_ins.json' if human_goals else ''}; "
            "download them as in WebShop's setup.sh, or leave data_dir unset to generate a shop.")
    raw_products = json.loads(products_file.read_text())[:num_products]
    attrs = json.loads(attrs_file.read_text())
    human = json.loads(human_file.read_text()) if human_goals else {}
    products, goals, seen = [], [], set()
    for raw in raw_products:
        product = _official_product(raw, attrs)
        if product is None or product["asin"] in seen:
            continue
        seen.add(product["asin"])
        products.append(product)
        rng = _asin_rng(product["asin"], "goal")
        if human_goals:
            for ins in human.get(product["asin"], []):
                if ins.get("instruction_attributes"):
                    goals.append(_goal(product, ins["instruction"].strip("."),
                                       ins["instruction_attributes"],
                                       ins.get("instruction_options", []), rng))
        else:
            entry = attrs.get(product["asin"], {})
            if entry.get("instruction") and entry.get("instruction_attributes"):
                # Synthetic goals: one per combination in WebShop; one drawn combination here.
                chosen = {k: rng.choice(v) for k, v in sorted(product["options"].items())}
                text = entry["instruction"]
                if chosen:
                    text += " with " + ", and ".join(f"{k}: {v}" for k, v in chosen.items())
                goals.append(_goal(product, text, entry["instruction_attributes"], chosen, rng))
    source = f"official({products_file}, human_goals={human_goals}, num_products={num_products})"
    return {"products": products, "goals": goals, "source": source}


def load_catalogue(data_dir: str | Path | None = None, *, seed: int = 0, num_products: int | None
                   = None, human_goals: bool = True) -> Catalogue:
    """The catalogue from ``data_dir`` (official files) or the generator, cached on disk.

    ``num_products`` truncates the official list (WebShop's DEBUG_PROD_SIZE) or sizes the
    generated shop (default 500). The cache key covers every argument, so a changed
    argument never reads a stale file.
    """
    if data_dir is None:
        from vldac.envs.webshop.generator import generate

        n = 500 if num_products is None else num_products
        key = f"generated-s{seed}-n{n}-v{_CACHE_VERSION}"
        build = lambda: generate(seed, n)  # noqa: E731
    else:
        data_dir = Path(data_dir).expanduser().resolve()
        stamp = hashlib.sha256(f"{data_dir}:{num_products}:{human_goals}".encode()).hexdigest()
        key = f"official-{stamp[:12]}-v{_CACHE_VERSION}"
        build = lambda: _load_official(data_dir, num_products, human_goals)  # noqa: E731
    path = cache_dir() / f"{key}.json"
    if path.is_file():
        data = json.loads(path.read_text())
    else:
        data = build()
        if not data["goals"]:
            raise ValueError(f"the catalogue {data['source']} has no goals to pursue.")
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)  # atomic: envs in parallel workers may build the same file at once
    return Catalogue(data["products"], data["goals"], data["source"], path)
