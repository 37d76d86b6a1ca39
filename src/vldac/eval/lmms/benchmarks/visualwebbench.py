"""VisualWebBench (web page understanding and grounding) through lmms-eval, offline.

Data: the Hugging Face dataset ``visualwebbench/VisualWebBench``, seven configs of split
``test`` as ``<config>/test-*.parquet``: web_caption, heading_ocr, webqa, element_ocr,
element_ground, action_prediction, action_ground (``lmms-lab/VisualWebBench`` holds the same).

Each task is lmms-eval's ``visualwebbench_<config>`` YAML, included as it is: the benchmark's
own prompts (``lmms_eval/tasks/visualwebbench/prompts.py``), greedy decoding with 16 new
tokens, and its scoring with the ``rouge`` package (F-measure x100, averaged over samples):

- web_caption, heading_ocr, element_ocr: ROUGE-1/2/L; the headline is ROUGE-L. An empty reply
  (and for element_ocr a one-character reply) scores as " ".
- webqa: F1 = the best ROUGE-1 F over the gold answers.
- element_ground, action_prediction, action_ground: accuracy of the letter that
  ``parse_multi_choice_response`` reads from the reply (A-H -> option index).

Two guards around lmms-eval's scoring, neither changing a score it can compute:

- webqa: a reply ``rouge`` cannot score against any gold answer (one made only of dots)
  makes lmms-eval's per-sample ``eval_webqa`` divide by zero and abort the run; the official
  scorer skips such samples in the average, and so do we.
- web_caption, heading_ocr, element_ocr: a reply made only of dots makes ``rouge`` raise
  "Hypothesis is empty" (in lmms-eval and in the official scorer alike, aborting the run); we
  score it as an empty reply (0).

Headline scores: each task's number and ``average``, the unweighted mean of the seven.
"""

from __future__ import annotations

import io
from pathlib import Path

from vldac.eval.lmms.registry import Benchmark, register, write_parquet

CONFIGS = ("web_caption", "heading_ocr", "webqa", "element_ocr", "element_ground",
           "action_prediction", "action_ground")
ROUGE_CONFIGS = ("web_caption", "heading_ocr", "element_ocr")
ACCURACY_CONFIGS = ("element_ground", "action_prediction", "action_ground")
HEADLINE_METRIC = {**{c: "rouge_l" for c in ROUGE_CONFIGS}, "webqa": "f1_score",
                   **{c: "accuracy" for c in ACCURACY_CONFIGS}}


def task_name(config: str) -> str:
    return f"vldac_visualwebbench_{config}"


def _lmms_visualwebbench():
    from lmms_eval.tasks.visualwebbench import utils

    return utils


def _only_dots(text: str) -> bool:
    """What ``rouge`` splits into no sentence at all ("Hypothesis is empty")."""
    return bool(text) and not text.replace(".", "")


def rouge_process_results(doc: dict, results: list[str]) -> dict:
    """lmms-eval's ``visualwebbench_process_results_rouge``; a dots-only reply counts as empty."""
    results = ["" if _only_dots(reply) else reply for reply in results]
    return _lmms_visualwebbench().visualwebbench_process_results_rouge(doc, results)


def webqa_process_results(doc: dict, results: list[str]) -> dict:
    """lmms-eval's ``visualwebbench_process_results_f1``; ``None`` (skipped, as the official
    scorer skips it) when no gold answer can be scored against the reply."""
    try:
        return _lmms_visualwebbench().visualwebbench_process_results_f1(doc, results)
    except ZeroDivisionError:  # eval_webqa skipped the sample's only score
        return {"f1_score": None}


def webqa_f1_aggregate(results: list[float | None]) -> float:
    """lmms-eval's mean F1 over the samples that could be scored."""
    scored = [value for value in results if value is not None]
    if not scored:
        raise ValueError("no webqa reply could be scored (every reply was made only of dots).")
    return _lmms_visualwebbench().visualwebbench_f1_score_aggregate(scored)


def scores(results: dict) -> dict[str, float]:
    """Each task's headline number (ROUGE-L, F1 or accuracy, all x100) and their mean."""
    out = {}
    for config in CONFIGS:
        try:
            metrics = results["results"][task_name(config)]
        except KeyError:
            raise ValueError(f"lmms-eval returned no results for {task_name(config)}.") from None
        out[config] = float(metrics[f"{HEADLINE_METRIC[config]},none"])
    out["average"] = sum(out[c] for c in CONFIGS) / len(CONFIGS)
    return out


# --- fixture --------------------------------------------------------------------------------

_WEBSITE = "example.org"
_SIZE = (128, 96)
_BOXES = ((0.05, 0.1, 0.45, 0.3), (0.55, 0.1, 0.95, 0.3), (0.05, 0.5, 0.45, 0.7),
          (0.55, 0.5, 0.95, 0.7))


def _screenshot(red_box=None, labelled_boxes=()):
    """A synthetic page: grey bars for text, an optional red box, optional boxes labelled A.."""
    from PIL import Image, ImageDraw

    width, height = _SIZE
    image = Image.new("RGB", _SIZE, (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 8), fill=(40, 60, 120))
    for top in range(14, height - 6, 10):
        draw.rectangle((6, top, width - 20, top + 3), fill=(170, 170, 170))

    def pixels(box):
        return (box[0] * width, box[1] * height, box[2] * width, box[3] * height)

    for index, box in enumerate(labelled_boxes):
        draw.rectangle(pixels(box), outline=(30, 30, 200))
        draw.text(pixels(box)[:2], chr(ord("A") + index), fill=(30, 30, 200))
    if red_box is not None:
        draw.rectangle(pixels(red_box), outline=(255, 0, 0), width=2)
    return image


def _png(image) -> dict:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return {"bytes": buffer.getvalue(), "path": None}


def _rows(config: str) -> tuple[list[dict], dict]:
    """Two samples of ``config`` and the columns' ``datasets`` features."""
    import datasets

    string, floats = datasets.Value("string"), datasets.Sequence(datasets.Value("float64"))
    common = {"id": string, "task_type": string, "website": string,
              "image": datasets.Image(), "image_size": datasets.Sequence(datasets.Value("int64"))}

    def base(index: int, image) -> dict:
        return {"id": f"{config}_{index}", "task_type": config, "website": _WEBSITE,
                "image": _png(image), "image_size": list(_SIZE)}

    plain = _screenshot()
    if config == "web_caption":
        answers = ["A small demo page about tiny synthetic websites",
                   "Shop for garden tools and seeds online"]
        rows = [{**base(i, plain), "answer": a} for i, a in enumerate(answers)]
        return rows, {**common, "answer": string}
    if config == "heading_ocr":
        answers = ["Welcome to Example", "Garden Tools and Seeds"]
        rows = [{**base(i, plain), "answer": a} for i, a in enumerate(answers)]
        return rows, {**common, "answer": string}
    if config == "webqa":
        questions = [("What is the name of the site?", ["Example", "example.org"]),
                     ("How many products are listed?", ["12", "twelve"])]
        rows = [{**base(i, plain), "question": q, "answer": a}
                for i, (q, a) in enumerate(questions)]
        return rows, {**common, "question": string, "answer": datasets.Sequence(string)}
    if config == "element_ocr":
        texts = ["Sign in to your account", "Free shipping on orders over 50 dollars"]
        rows = [{**base(i, _screenshot(red_box=_BOXES[i])), "bbox": list(_BOXES[i]),
                 "answer": t} for i, t in enumerate(texts)]
        return rows, {**common, "bbox": floats, "answer": string}
    if config == "element_ground":
        descs = [("the search button in the top right", 1), ("the footer link to contact", 2)]
        rows = [{**base(i, _screenshot(labelled_boxes=_BOXES)), "elem_desc": d,
                 "options": [list(b) for b in _BOXES], "raw_image": _png(plain), "answer": a}
                for i, (d, a) in enumerate(descs)]
        return rows, {**common, "elem_desc": string, "options": datasets.Sequence(floats),
                      "raw_image": datasets.Image(), "answer": datasets.Value("int64")}
    if config == "action_prediction":
        choices = ["Example - Sign in", "Example - Cart", "Example - Garden tools",
                   "Example - Contact us"]
        samples = [("Sign in", 0), ("Contact", 3)]
        rows = [{**base(i, _screenshot(red_box=_BOXES[i])), "bbox": list(_BOXES[i]),
                 "elem_desc": d, "options": choices, "answer": a}
                for i, (d, a) in enumerate(samples)]
        return rows, {**common, "bbox": floats, "elem_desc": string,
                      "options": datasets.Sequence(string), "answer": datasets.Value("int64")}
    if config == "action_ground":
        instructions = [("Open the shopping cart", 3), ("Sign in to the site", 0)]
        rows = [{**base(i, _screenshot(labelled_boxes=_BOXES)), "instruction": t,
                 "options": [list(b) for b in _BOXES], "raw_image": _png(plain), "answer": a}
                for i, (t, a) in enumerate(instructions)]
        return rows, {**common, "instruction": string, "options": datasets.Sequence(floats),
                      "raw_image": datasets.Image(), "answer": datasets.Value("int64")}
    raise ValueError(f"unknown VisualWebBench config {config!r}; choose one of {CONFIGS}.")


def make_fixture(root: Path) -> Path:
    """A tiny VisualWebBench under ``root``: ``<config>/test-00000-of-00001.parquet`` for the
    seven configs, two samples each, real fields, synthetic PNG screenshots as HF Image structs."""
    import datasets

    root = Path(root)
    for config in CONFIGS:
        rows, features = _rows(config)
        columns = {name: [row[name] for row in rows] for name in features}
        dataset = datasets.Dataset.from_dict(columns, features=datasets.Features(features))
        write_parquet(dataset, root / config / "test-00000-of-00001.parquet")
    return root


register(Benchmark(
    name="visualwebbench",
    tasks=tuple(task_name(config) for config in CONFIGS),
    make_fixture=make_fixture,
    scores=scores,
    data_help=(
        "Download the Hugging Face dataset visualwebbench/VisualWebBench (or lmms-lab/"
        "VisualWebBench) into a folder so that each config's test split sits at "
        "<folder>/<config>/test-*.parquet for the seven configs (web_caption, heading_ocr, "
        "webqa, element_ocr, element_ground, action_prediction, action_ground), and pass "
        "--data <folder>."
    ),
))
