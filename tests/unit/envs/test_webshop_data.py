"""WebShop without a browser: the reward against hand-computed cases, the generator, the
official-file loader, search determinism and action parsing."""

import json

import pytest

pytest.importorskip("rapidfuzz", reason="the WebShop reward needs rapidfuzz (vldac[webshop])")
pytest.importorskip("rank_bm25", reason="the WebShop search needs rank_bm25 (vldac[webshop])")

from vldac.envs.webshop import catalogue as catalogue_module  # noqa: E402
from vldac.envs.webshop.actions import match_label, parse_action  # noqa: E402
from vldac.envs.webshop.expert import best_options, goal_query  # noqa: E402
from vldac.envs.webshop.generator import generate  # noqa: E402
from vldac.envs.webshop.reward import normalize_color, purchase_reward  # noqa: E402
from vldac.envs.webshop.search import BM25Search  # noqa: E402

TEA = {
    "asin": "B0TEA", "title": "Acme Green Tea - Organic, Gluten Free", "query": "green tea",
    "category": "grocery", "product_category": "Grocery & Gourmet Food › Grocery › Green Tea",
    "price": 20.0, "price_tag": "$20.00", "attributes": ["organic", "gluten free", "kosher"],
    "options": {"size": ["pack of 1", "pack of 6"], "flavor": ["honey", "mint"]},
    "bullet_points": ["Kosher: certified."], "description": "Fresh tea.",
}
GOAL = {
    "asin": "B0TEA", "name": TEA["title"], "query": "green tea", "category": "grocery",
    "product_category": TEA["product_category"], "instruction_text": "i need green tea",
    "attributes": ["organic", "gluten free", "low sugar"],
    "goal_options": {"size": "pack of 6", "flavor": "honey"}, "price_upper": 30.0,
}


def chair(title):
    return {**TEA, "asin": "B0CHAIR", "title": title, "query": "office chair",
            "product_category": "Home & Kitchen › Furniture › Office Chair",
            "attributes": ["metal frame"], "bullet_points": [], "description": "A chair."}


def test_reward_hand_computed_cases():
    # 2 of 3 attributes (low sugar is nowhere), both options, price ok: (2 + 2 + 1) / 6.
    score = purchase_reward(TEA, GOAL, 20.0, {"size": "pack of 6", "flavor": "honey"})
    assert score.reward == pytest.approx(5 / 6)
    assert (score.attribute_matches, score.option_matches, score.price_ok) == (2, 2, True)
    # Wrong size, price over the limit: (2 + 1 + 0) / 6.
    score = purchase_reward(TEA, {**GOAL, "price_upper": 10.0}, 20.0,
                            {"size": "pack of 1", "flavor": "honey"})
    assert score.reward == pytest.approx(3 / 6)
    # All attributes present and all options right: exactly 1.
    perfect = {**GOAL, "attributes": ["organic", "kosher"]}
    assert purchase_reward(TEA, perfect, 20.0, GOAL["goal_options"]).reward == 1.0
    # No options chosen: (2 + 0 + 1) / 5 with a two-attribute goal.
    assert purchase_reward(TEA, perfect, 20.0, {}).reward == pytest.approx(3 / 5)


def test_reward_fuzzy_exact_and_colour_rules():
    # Non-size options match fuzzily (token_set_ratio 100 for a superset), sizes only exactly.
    score = purchase_reward(TEA, GOAL, 20.0, {"flavor": "honey flavor", "size": "pack of 6 bags"})
    assert score.option_matches == 1
    assert normalize_color("light grey") == "grey" and normalize_color("mint green") == "green"
    colour_goal = {**GOAL, "goal_options": {"color": "grey"}}
    assert purchase_reward(TEA, colour_goal, 20.0, {"color": "light grey"}).option_matches == 1


def test_reward_type_factor():
    # Goal title words: acme green tea organic gluten free. One shared word (1/6), no shared
    # query or category: r_type 0.5. None shared: 0, whatever else matches.
    half = purchase_reward(chair("Acme Office Chair"), GOAL, 20.0, {})
    assert half.r_type == 0.5 and half.title_score == pytest.approx(1 / 6)
    assert half.reward == pytest.approx(0.5 * (0 + 0 + 1) / 6)
    zero = purchase_reward(chair("Zeta Office Chair"), GOAL, 20.0, {})
    assert (zero.r_type, zero.reward) == (0.0, 0.0)


def test_generator_is_deterministic_and_every_goal_is_reachable():
    first, again, other = generate(3, 150), generate(3, 150), generate(4, 150)
    assert first == again and first != other
    products = {p["asin"]: p for p in first["products"]}
    assert len(products) == 150 and len(first["goals"]) == 300
    assert len({p["category"] for p in products.values()}) == 5
    for goal in first["goals"]:
        product = products[goal["asin"]]
        chosen = best_options(product, goal)
        assert chosen == goal["goal_options"]
        assert purchase_reward(product, goal, product["price"], chosen).reward == 1.0
        assert goal["price_upper"] >= product["price"]


def test_search_is_deterministic_and_finds_goals():
    shop = generate(0, 300)
    engine = BM25Search(shop["products"])
    query = goal_query(shop["goals"][0])
    assert engine.search(query) == BM25Search(shop["products"]).search(query)
    assert len(engine.search(query)) == 50 and engine.search("") == []
    found = sum(g["asin"] in engine.search(goal_query(g)) for g in shop["goals"][:100])
    assert found >= 90


def test_official_files_are_converted(tmp_path, monkeypatch):
    monkeypatch.setenv("VLDAC_CACHE", str(tmp_path / "cache"))
    raw = [{"asin": "B0OFFICIAL", "name": "Blue Cotton Shirt", "category": "fashion",
            "query": " Men's Shirts ", "product_category": "Clothing › Men › Shirts",
            "pricing": "$10.00 - $20.00", "full_description": "A shirt.",
            "small_description": ["soft cotton"], "images": ["x.jpg"],
            "customization_options": {"Color": [{"value": "Navy/Blue", "image": None}],
                                      "Size": [{"value": "Large"}, {"value": "Small"}]}},
           {"asin": "nan", "name": "skipped"}]
    data = tmp_path / "data"
    data.mkdir()
    (data / "items_shuffle_1000.json").write_text(json.dumps(raw))
    (data / "items_ins_v2.json").write_text(json.dumps({"B0OFFICIAL": {"attributes": ["cotton"]}}))
    (data / "items_human_ins.json").write_text(json.dumps({"B0OFFICIAL": [
        {"instruction": "i want a navy cotton shirt.", "instruction_attributes": ["cotton"],
         "instruction_options": ["navy | blue", "large"]}]}))
    shop = catalogue_module.load_catalogue(data)
    (product,) = shop.products
    assert product["options"] == {"color": ["navy | blue"], "size": ["large", "small"]}
    assert 10.0 <= product["price"] <= 20.0 and product["price_tag"] == "$10.0 to $20.0"
    assert product["query"] == "men's shirts" and product["attributes"] == ["cotton"]
    (goal,) = shop.goals
    assert goal["goal_options"] == {"color": "navy | blue", "size": "large"}
    assert goal["instruction_text"].startswith("i want a navy cotton shirt, and price lower than")
    assert catalogue_module.load_catalogue(data).products == shop.products  # cached, same
    with pytest.raises(FileNotFoundError, match="items_ins_v2.json"):
        catalogue_module.load_catalogue(tmp_path)


@pytest.mark.parametrize("text, expected", [
    ('{"thoughts": "ok", "action": "click[Buy Now]"}', ("click", "Buy Now")),
    ("```json\n{'action': 'search[red  shoes]'}\n```", ("search", "red shoes")),
    ("I will click[< Prev] now", ("click", "< Prev")),
    ("search[men's shirt [large]]", ("search", "men's shirt [large]")),
    ('{"action": "buy it"}', None),
    ("click[]", None),
    ("no action here", None),
])
def test_parse_action(text, expected):
    assert parse_action(text) == expected


def test_match_label_by_text_asin_or_title():
    labels = ["Back to Search", "Next >", "B0ABC"]
    assert match_label("back  to search", labels, {}) == 0
    assert match_label("b0abc", labels, {}) == 2
    assert match_label("Acme Tea", labels, {"B0ABC": "Acme Tea"}) == 2
    assert match_label("Buy Now", labels, {}) is None


def test_site_pages_and_reward_without_a_browser():
    pytest.importorskip("flask", reason="the WebShop site needs flask (vldac[webshop])")
    from vldac.envs.webshop.app import create_app

    shop = generate(0, 60)
    goal = shop["goals"][0]
    client = create_app(shop).test_client()
    assert client.get("/health").get_json()["products"] == 60
    assert goal["instruction_text"] in client.get("/s/0/").get_data(as_text=True)
    page = client.get("/s/0/search", query_string={"q": goal_query(goal), "page": 2})
    html = page.get_data(as_text=True)
    assert "Page 2" in html and 'data-click="&lt; Prev"' in html and html.count('class="asin"') == 10
    options = json.dumps(goal["goal_options"])
    done = client.get(f"/s/0/buy/{goal['asin']}", query_string={"options": options})
    assert "Your score (min 0.0, max 1.0): 1.0000" in done.get_data(as_text=True)
    assert client.get("/s/999/").status_code == 404


def test_lucene_search_is_deterministic_and_agrees_with_bm25(tmp_path):
    from vldac.envs.webshop.lucene import anserini_jar

    try:
        anserini_jar()
    except ImportError as exc:
        pytest.skip(str(exc))
    from vldac.envs.webshop.lucene import LuceneSearch

    shop = generate(0, 300)
    lucene = LuceneSearch(shop["products"], tmp_path / "index")
    bm25 = BM25Search(shop["products"])
    queries = [goal_query(g) for g in shop["goals"][:40]]
    assert [lucene.search(q) for q in queries] == [lucene.search(q) for q in queries]
    found = sum(g["asin"] in lucene.search(goal_query(g)) for g in shop["goals"][:40])
    top = sum(lucene.search(q)[0] == bm25.search(q)[0] for q in queries)
    assert found >= 38 and top >= 30
