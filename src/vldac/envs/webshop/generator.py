"""A synthetic WebShop catalogue: products with categories, attributes, options and prices,
and goal instructions over them, all a deterministic function of ``(seed, num_products)``.

It mirrors the shape of WebShop's data (five top-level categories, products with a search
query, a '›'-separated category path, attributes, customisation options, a price) so that
the site, the search engine and the reward treat it exactly like the official files.
Each type has more attributes than any product carries, so one search returns many
near-misses and only a careful buyer scores 1.
"""

from __future__ import annotations

import random

from vldac.envs.webshop.catalogue import PRICE_RANGE, price_upper_for

__all__ = ["generate"]

_COLORS = ["black", "white", "navy", "grey", "red", "green", "beige", "pink", "brown", "blue"]
_APPAREL = {"color": _COLORS, "size": ["x-small", "small", "medium", "large", "x-large"]}
_SHOES = {"color": _COLORS, "size": ["6", "7", "8", "9", "10", "11", "12"]}
_VOLUMES = {"size": ["2 fl oz", "4 fl oz", "8 fl oz", "16 fl oz"]}
_PACKS = {"size": ["pack of 1", "pack of 2", "pack of 6", "pack of 12"]}
_FLAVORS = ["original", "vanilla", "sea salt", "honey", "chili lime", "dark roast", "berry"]
_FURNITURE = {"color": ["black", "white", "walnut", "oak", "grey"],
              "size": ["small", "medium", "large"]}
_DEVICES = {"color": ["black", "white", "blue", "red", "silver"]}
_CABLES = {"color": ["black", "white"], "size": ["3 ft", "6 ft", "10 ft"]}

# category: (category path root, attributes shared by the category, {type: options})
_CATEGORIES: dict[str, tuple[str, list[str], dict[str, dict[str, list[str]]]]] = {
    "fashion": (
        "Clothing, Shoes & Jewelry",
        ["machine wash", "long sleeve", "short sleeve", "slim fit", "relaxed fit", "cotton",
         "quick drying", "moisture wicking", "button closure", "elastic waist", "hand wash",
         "lightweight", "water resistant", "breathable"],
        {"t-shirt": _APPAREL, "hoodie": _APPAREL, "jeans": _APPAREL, "rain jacket": _APPAREL,
         "sweater": _APPAREL, "running shoes": _SHOES, "ankle boots": _SHOES},
    ),
    "beauty": (
        "Beauty & Personal Care",
        ["paraben free", "cruelty free", "long lasting", "sulfate free", "natural ingredients",
         "fragrance free", "dry skin", "sensitive skin", "vegan", "travel size", "anti aging",
         "hyaluronic acid", "easy to use"],
        {"shampoo": {**_VOLUMES, "scent": ["lavender", "citrus", "coconut", "unscented"]},
         "face moisturizer": _VOLUMES, "body wash": {**_VOLUMES, "scent": ["citrus", "mint"]},
         "sunscreen lotion": _VOLUMES, "hair oil": _VOLUMES,
         "nail polish": {"color": ["red", "pink", "nude", "coral", "plum", "black"]}},
    ),
    "grocery": (
        "Grocery & Gourmet Food",
        ["gluten free", "non gmo", "low sugar", "organic", "keto friendly", "high protein",
         "sugar free", "kosher", "caffeine free", "individually wrapped", "plant based",
         "low carb", "dairy free"],
        {"coffee beans": {**_PACKS, "flavor": _FLAVORS}, "green tea": {**_PACKS, "flavor": _FLAVORS},
         "protein bars": {**_PACKS, "flavor": _FLAVORS}, "trail mix": _PACKS,
         "dark chocolate": {**_PACKS, "flavor": _FLAVORS}, "beef jerky": _PACKS,
         "granola": {**_PACKS, "flavor": _FLAVORS}},
    ),
    "furniture": (
        "Home & Kitchen",
        ["easy assembly", "solid wood", "metal frame", "living room", "space saving",
         "height adjustable", "bedroom", "mid century", "storage space", "non slip",
         "engineered wood", "lumbar support"],
        {"bookshelf": _FURNITURE, "office chair": _FURNITURE, "coffee table": _FURNITURE,
         "bar stool": _FURNITURE, "nightstand": _FURNITURE, "shoe rack": _FURNITURE,
         "tv stand": _FURNITURE},
    ),
    "electronics": (
        "Electronics",
        ["fast charging", "noise cancelling", "high definition", "water resistant",
         "long battery life", "easy install", "usb c", "wireless charging", "shockproof",
         "plug and play", "high speed", "aluminum alloy"],
        {"wireless earbuds": _DEVICES, "bluetooth speaker": _DEVICES, "power bank": _DEVICES,
         "hdmi cable": _CABLES, "charging cable": _CABLES, "wireless mouse": _DEVICES,
         "phone case": {"color": _COLORS}},
    ),
}
_BRANDS = ["Norvik", "Aldenwood", "Brightfield", "Cobalt Bay", "Dunmore", "Elmstead", "Farrow",
           "Greyline", "Halden", "Ironvale", "Juniper & Co", "Kestrel", "Lumen", "Marlow",
           "Northpeak", "Oakridge", "Pinecrest", "Quill", "Redfern", "Solace"]
_OPENERS = ["i am looking for", "i need", "find me", "i want to buy", "please find me"]
_PRICE_BY_CATEGORY = {"fashion": (9, 89), "beauty": (5, 45), "grocery": (4, 39),
                      "furniture": (29, 299), "electronics": (8, 129)}


def _asin(rng: random.Random, taken: set[str]) -> str:
    while True:
        asin = "B0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))
        if asin not in taken:
            taken.add(asin)
            return asin


def _product(rng: random.Random, category: str, kind: str, asin: str) -> dict:
    root, pool, types = _CATEGORIES[category]
    attributes = rng.sample(pool, rng.randint(3, 5))
    options = {}
    for name, values in types[kind].items():
        options[name] = sorted(rng.sample(values, rng.randint(min(2, len(values)), len(values))),
                               key=values.index)
    low, high = _PRICE_BY_CATEGORY[category]
    price = round(rng.uniform(low, high), 2)
    brand = rng.choice(_BRANDS)
    headline = ", ".join(a.title() for a in attributes[:2])
    title = f"{brand} {kind.title()} - {headline}"
    bullets = [f"{a.capitalize()}: designed and tested by {brand}." for a in attributes[2:]]
    bullets.append(f"Available in {len(next(iter(options.values())))} {next(iter(options))}s.")
    description = (f"The {brand} {kind} is made for everyday use. Our customers love it, "
                   f"and it comes with a 30 day return policy.")
    return {
        "asin": asin, "title": title, "category": category, "query": kind,
        "product_category": f"{root} › {category.title()} › {kind.title()}",
        "price": price, "price_tag": f"${price:.2f}", "options": options,
        "attributes": attributes, "bullet_points": bullets, "description": description,
    }


def _goal(rng: random.Random, product: dict) -> dict:
    attributes = rng.sample(product["attributes"], rng.randint(1, min(3, len(product["attributes"]))))
    goal_options = {name: rng.choice(values) for name, values in product["options"].items()}
    price_upper = price_upper_for(product["price"], rng)
    article = "an" if attributes[0][0] in "aeiou" else "a"
    text = f"{rng.choice(_OPENERS)} {article} {' and '.join(attributes)} {product['query']}"
    if goal_options:
        text += " with " + ", and ".join(f"{k}: {v}" for k, v in goal_options.items())
    if price_upper < PRICE_RANGE[-1]:
        text += f", and price lower than {price_upper:.2f} dollars"
    return {
        "asin": product["asin"], "name": product["title"], "category": product["category"],
        "query": product["query"], "product_category": product["product_category"],
        "instruction_text": text, "attributes": attributes, "goal_options": goal_options,
        "price_upper": price_upper, "weight": 1.0,
    }


def generate(seed: int = 0, num_products: int = 500, goals_per_product: int = 2) -> dict:
    """A catalogue ``{"products": [...], "goals": [...], "source": ...}`` drawn from ``seed``.

    Products are spread evenly over the types of all categories; every goal is met in full
    (reward 1) by its own product bought with the goal's options.
    """
    if num_products < 1 or goals_per_product < 1:
        raise ValueError("num_products and goals_per_product must be positive integers.")
    rng = random.Random(seed)
    kinds = [(c, k) for c, (_, _, types) in _CATEGORIES.items() for k in types]
    taken: set[str] = set()
    products = [_product(rng, *kinds[i % len(kinds)], _asin(rng, taken))
                for i in range(num_products)]
    rng.shuffle(products)
    goals = [_goal(rng, p) for p in products for _ in range(goals_per_product)]
    source = f"generated(seed={seed}, num_products={num_products})"
    return {"products": products, "goals": goals, "source": source}
