"""The shop site (Flask), following the WebShop site's pages and buttons.

Pages, all under ``/s/<goal>/`` where ``<goal>`` is the goal's index (the session):
search page (instruction, search box) -> results (PRODUCT_WINDOW products per page, 'Next >',
'< Prev', 'Back to Search') -> item page (options, 'Description' and 'Features' tabs,
'Buy Now', '< Prev') -> done page (the score). The site keeps no state: a page is a pure
function of its URL, so a restarted server shows the same page for the same URL.

Every clickable element carries ``data-click="<label>"`` (the text an agent writes inside
``click[...]``), and every page embeds a JSON ``#shop-state`` script (page kind, listed asins,
selected options, the reward) that the env reads; scripts are not part of the page's text.

Run as a process: ``python -m vldac.envs.webshop.app --catalogue FILE`` binds a free
loopback port (port 0, so a busy port can never collide) and prints ``PORT <n>`` once it
listens. The server exits when its parent dies (PR_SET_PDEATHSIG in server.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

from flask import Flask, abort, render_template, request

from vldac.envs.webshop.reward import purchase_reward
from vldac.envs.webshop.search import SEARCH_BACKENDS, make_search

__all__ = ["create_app", "main"]

PRODUCT_WINDOW = 10
TABS = ("Description", "Features")


def _swatch(asin: str) -> str:
    """A stable pastel colour for a product's picture placeholder (no image files offline)."""
    h = hashlib.sha256(asin.encode()).digest()
    return f"rgb({150 + h[0] % 90}, {150 + h[1] % 90}, {150 + h[2] % 90})"


def create_app(catalogue: dict, search_backend: str = "bm25", product_window: int =
               PRODUCT_WINDOW, index_dir: str | None = None) -> Flask:
    """The Flask app over ``catalogue`` ({"products", "goals"} in catalogue.py's form)."""
    app = Flask(__name__)
    products = catalogue["products"]
    goals = catalogue["goals"]
    by_asin = {p["asin"]: p for p in products}
    engine = make_search(search_backend, products, index_dir)

    def goal_of(g: int) -> dict:
        if not 0 <= g < len(goals):
            abort(404)
        return goals[g]

    def read_options(product: dict) -> dict[str, str]:
        try:
            chosen = json.loads(request.args.get("options", "{}"))
        except ValueError:
            chosen = {}
        if not isinstance(chosen, dict):
            return {}
        return {k: v for k, v in chosen.items() if v in product["options"].get(k, [])}

    def page(template: str, g: int, state: dict, **context) -> str:
        state = {"goal": g, **state}
        return render_template(template, g=g, instruction=goals[g]["instruction_text"],
                               state_json=json.dumps(state), swatch=_swatch, tabs=TABS,
                               json=json, merged=lambda d, k, v: {**d, k: v}, **context)

    @app.get("/health")
    def health():
        return {"status": "ok", "products": len(products), "goals": len(goals),
                "search": search_backend}

    @app.get("/s/<int:g>/")
    def start(g: int):
        goal_of(g)
        return page("search.html", g, {"page": "search"})

    @app.get("/s/<int:g>/search")
    def results(g: int):
        goal_of(g)
        keywords = request.args.get("q", "")
        number = max(1, request.args.get("page", 1, type=int))
        hits = engine.search(keywords)
        shown = [by_asin[a] for a in hits[(number - 1) * product_window: number * product_window]]
        last = max(1, -(-len(hits) // product_window))
        state = {"page": "results", "keywords": keywords, "page_no": number,
                 "asins": [p["asin"] for p in shown],
                 "titles": {p["asin"]: p["title"] for p in shown}}
        return page("results.html", g, state, keywords=keywords, number=number, total=len(hits),
                    shown=shown, has_next=number < last)

    @app.get("/s/<int:g>/item/<asin>")
    @app.get("/s/<int:g>/item/<asin>/<tab>")
    def item(g: int, asin: str, tab: str | None = None):
        goal_of(g)
        product = by_asin.get(asin) or abort(404)
        if tab is not None and tab not in TABS:
            abort(404)
        chosen = read_options(product)
        back = {"q": request.args.get("q", ""), "page": request.args.get("page", 1, type=int)}
        state = {"page": "tab" if tab else "item", "asin": asin, "options": chosen, "tab": tab,
                 **{"keywords": back["q"], "page_no": back["page"]}}
        return page("tab.html" if tab else "item.html", g, state, product=product,
                    chosen=chosen, back=back, tab=tab)

    @app.get("/s/<int:g>/buy/<asin>")
    def buy(g: int, asin: str):
        goal = goal_of(g)
        product = by_asin.get(asin) or abort(404)
        chosen = read_options(product)
        score = purchase_reward(product, goal, product["price"], chosen)
        state = {"page": "done", "asin": asin, "options": chosen, "reward": score.reward,
                 "r_type": score.r_type, "attribute_matches": score.attribute_matches,
                 "option_matches": score.option_matches, "price_ok": score.price_ok}
        return page("done.html", g, state, product=product, chosen=chosen, score=score)

    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the shop on 127.0.0.1 at a free port and print ``PORT <n>`` when listening."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogue", required=True, help="catalogue JSON written by the env")
    parser.add_argument("--search", default="bm25", choices=SEARCH_BACKENDS)
    parser.add_argument("--product-window", type=int, default=PRODUCT_WINDOW)
    parser.add_argument("--index-dir", default=None, help="Lucene index folder (lucene only)")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    args = parser.parse_args(argv)
    from werkzeug.serving import make_server

    with open(args.catalogue) as f:
        catalogue = json.load(f)
    app = create_app(catalogue, args.search, args.product_window, args.index_dir)
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
