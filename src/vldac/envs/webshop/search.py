"""The shop's search engine: BM25 over each product's text, top 50 asins per query.

Two backends return the same kind of answer (a ranked list of asins, ties broken by
catalogue order so that a query always gives the same list):

- ``"bm25"`` (default): Okapi BM25 from ``rank_bm25`` in the server process. Pure Python,
  a few MB, indexes 500 products in milliseconds.
- ``"lucene"``: Lucene's BM25 through Anserini, as WebShop does with pyserini. It needs
  ``pyserini==0.22.1`` (its bundled Anserini jar) and Java 17; see lucene.py.

What is indexed, as in WebShop's index: the title, description, bullet points and option
values of each product.
"""

from __future__ import annotations

import re

__all__ = ["SEARCH_BACKENDS", "SEARCH_RETURN_N", "BM25Search", "make_search", "product_text"]

SEARCH_RETURN_N = 50
SEARCH_BACKENDS = ("bm25", "lucene")
_TOKEN = re.compile(r"[a-z0-9]+")


def product_text(product: dict) -> str:
    """The text a product is found by."""
    options = " ".join(v for values in product["options"].values() for v in values)
    return " ".join([product["title"], product["description"], *product["bullet_points"], options])


def tokenize(text: str) -> list[str]:
    """Lower-cased alphanumeric tokens."""
    return _TOKEN.findall(text.lower())


class BM25Search:
    """Okapi BM25 (k1=0.9, b=0.4: Lucene/Anserini's defaults) over ``product_text``."""

    def __init__(self, products: list[dict]) -> None:
        from rank_bm25 import BM25Okapi

        self.asins = [p["asin"] for p in products]
        self._bm25 = BM25Okapi([tokenize(product_text(p)) for p in products], k1=0.9, b=0.4)

    def search(self, query: str, k: int = SEARCH_RETURN_N) -> list[str]:
        """The asins of the ``k`` best products for ``query`` (none for an empty query)."""
        tokens = tokenize(query)
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [self.asins[i] for i in ranked[:k] if scores[i] > 0]


def make_search(backend: str, products: list[dict], index_dir=None):
    """A search engine of ``backend`` ("bm25" or "lucene") over ``products``."""
    if backend == "bm25":
        return BM25Search(products)
    if backend == "lucene":
        from vldac.envs.webshop.lucene import LuceneSearch

        return LuceneSearch(products, index_dir)
    raise ValueError(f"search must be one of {list(SEARCH_BACKENDS)}, got {backend!r}.")
