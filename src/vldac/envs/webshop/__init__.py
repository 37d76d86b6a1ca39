"""WebShop (Yao et al. 2022) as the VL-DAC paper used it: a shop site, a headless browser.

    from vldac.envs import make
    env = make("webshop/WebShop-v0")          # generated 500-product shop, BM25 search
    env = make("webshop/WebShop-v0", data_dir="~/webshop/data", search="lucene")

Modules: catalogue.py (products and goals, official files or generator.py), search.py
(BM25; lucene.py for Lucene), app.py + templates/ + static/ (the Flask site), server.py
(the site's process), browser.py (Playwright + Debian Chromium), actions.py (parsing),
reward.py (WebShop's score), expert.py (the oracle), env.py (the contract).
Needs the ``webshop`` extra (flask, playwright, rank_bm25, rapidfuzz) and /usr/bin/chromium.
"""
