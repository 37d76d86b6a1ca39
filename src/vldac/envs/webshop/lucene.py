"""Lucene BM25 search through Anserini, as WebShop does with pyserini's LuceneSearcher.

Uses only the Anserini jar bundled in the ``pyserini==0.22.1`` wheel (install it with
``pip install --no-deps pyserini==0.22.1 pyjnius``) and Java 17 (Debian:
``apt-get install openjdk-17-jre-headless``). pyserini's own Python package is never
imported: its import path pulls in faiss and torch. pyserini >= 0.23 needs Java 21, which
Debian 12 lacks.

The index is built once per catalogue with Anserini's ``IndexCollection`` (a Java
subprocess, ~3 s) and reused from disk; searches run in-process through pyjnius.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from vldac.envs.webshop.search import SEARCH_RETURN_N, product_text

__all__ = ["LuceneSearch", "anserini_jar"]

_DONE = "vldac-index-complete"


def anserini_jar() -> Path:
    """The Anserini fat jar inside the installed pyserini wheel (found without importing it)."""
    spec = importlib.util.find_spec("pyserini")
    roots = list(spec.submodule_search_locations or []) if spec else []
    jars = sorted(j for r in roots for j in (Path(r) / "resources" / "jars").glob("anserini-*fatjar.jar"))
    if not jars:
        raise ImportError("search='lucene' needs Anserini's jar from pyserini 0.22.1; install it "
                          "with: pip install --no-deps pyserini==0.22.1 pyjnius.")
    if shutil.which("java") is None:
        raise ImportError("search='lucene' needs Java 17; install it with: apt-get install "
                          "openjdk-17-jre-headless.")
    return jars[-1]


def _build_index(products: list[dict], index_dir: Path, jar: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="vldac-lucene-docs-") as docs:
        with open(Path(docs) / "docs.jsonl", "w") as f:
            for product in products:
                f.write(json.dumps({"id": product["asin"], "contents": product_text(product)}) + "\n")
        if index_dir.exists():
            shutil.rmtree(index_dir)  # an index left half-built by a killed run
        subprocess.run(
            ["java", "-cp", str(jar), "io.anserini.index.IndexCollection", "-collection",
             "JsonCollection", "-input", docs, "-index", str(index_dir), "-generator",
             "DefaultLuceneDocumentGenerator", "-threads", "1", "-storeRaw"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    (index_dir / _DONE).touch()


class LuceneSearch:
    """Anserini's SimpleSearcher with BM25 (k1=0.9, b=0.4, Anserini's defaults)."""

    def __init__(self, products: list[dict], index_dir: str | Path | None) -> None:
        if index_dir is None:
            raise ValueError("search='lucene' needs an index_dir to keep its index in.")
        jar = anserini_jar()
        index_dir = Path(index_dir)
        if not (index_dir / _DONE).is_file():
            _build_index(products, index_dir, jar)
        import jnius_config

        if not jnius_config.vm_running:
            jnius_config.add_classpath(str(jar))
        from jnius import autoclass

        self._searcher = autoclass("io.anserini.search.SimpleSearcher")(str(index_dir))
        self._searcher.set_bm25(0.9, 0.4)

    def search(self, query: str, k: int = SEARCH_RETURN_N) -> list[str]:
        """The asins of the ``k`` best products for ``query`` (none for an empty query)."""
        if not query.strip():
            return []
        return [hit.docid for hit in self._searcher.search(query, k)]
