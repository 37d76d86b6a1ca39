"""MMT-Bench (val) and its multi-image part MMT-MI (val) through lmms-eval's own tasks.

Data: ``lmms-lab/MMT-Benchmark`` and ``lmms-lab/MMT_MI-Benchmark`` (split ``val``; columns
``index``, ``question``, ``A``-``I`` (missing options empty), ``answer`` (a letter),
``category``, ``l2-category``, ``split``, ``image`` (MMT-MI: the list of images)), downloaded
into the subfolders ``MMT-Benchmark/`` and ``MMT_MI-Benchmark/`` of the data folder; every
``val-*.parquet`` under each is read.

Prompt, generation settings and scoring are lmms-eval's (``lmms_eval.tasks.mmt.utils``):
"Question: <image>\\n" + question, the options "X: text", "\\nAnswer the question using a single
character from the given options."; 8 new tokens; MMMU's option parser (an unreadable reply
gets a random option, seeded by lmms-eval's seed); accuracy over all questions, in %.
Changes from lmms-eval's ``mmt_val.yaml`` / ``mmt_mi_val.yaml``: the data source, and
``process_results`` drops the ``submission`` entry (test-split predictions, empty on val).

Headline scores: ``val`` and ``mi_val`` (in %, Table 4's "MMT val" and "MMT-mi val").
"""

from __future__ import annotations

from pathlib import Path

from vldac.eval.lmms.registry import Benchmark, register

TASK = "vldac_mmt_val"
MI_TASK = "vldac_mmt_mi_val"
MMT_DIR = "MMT-Benchmark"
MI_DIR = "MMT_MI-Benchmark"
LETTERS = "ABCDEFGHI"

# (question, options, right, l2-category, images)
_QUESTIONS = [
    ("What colour is the square?", ["red", "green", "blue", "yellow"], 1, "color_recognition",
     [("green", "square")]),
    ("Which shape is drawn?", ["circle", "square"], 0, "shape_recognition",
     [("blue", "circle")]),
    ("How many shapes are drawn in all?", ["one", "two", "three"], 1, "counting_by_category",
     [("red", "square"), ("yellow", "circle")]),
]


def process_results(doc: dict, results: list[str]) -> dict:
    """lmms-eval's ``mmt_process_results`` without its ``submission`` entry (filled only for the
    test split; here it would surface in the results as an empty value)."""
    from lmms_eval.tasks.mmt.utils import mmt_process_results

    return {"accuracy": mmt_process_results(doc, results)["accuracy"]}


def _rows(multi_image: bool) -> list[dict]:
    from vldac.eval.lmms.benchmarks._synthetic import shape_image

    rows = []
    for number, (question, options, right, l2, images) in enumerate(_QUESTIONS):
        drawn = [shape_image(colour, shape) for colour, shape in images]
        padded = options + [None] * (len(LETTERS) - len(options))
        rows.append({
            "index": number, "question": question, **dict(zip(LETTERS, padded, strict=True)),
            "answer": LETTERS[right], "category": "visual_recognition", "l2-category": l2,
            "split": "VAL", "image": drawn if multi_image else drawn[0],
        })
    return rows


def make_fixture(root: Path) -> Path:
    """Write a tiny MMT-Bench val and MMT-MI val (real columns) under ``root``."""
    import datasets

    from vldac.eval.lmms.benchmarks._synthetic import write_parquet

    string = datasets.Value("string")
    columns = {"index": datasets.Value("int64"), "question": string,
               **{letter: string for letter in LETTERS}, "answer": string, "category": string,
               "l2-category": string, "split": string}
    write_parquet(_rows(False), {**columns, "image": datasets.Image()},
                  root / MMT_DIR / "data" / "val-00000-of-00001.parquet")
    write_parquet(_rows(True), {**columns, "image": datasets.Sequence(datasets.Image())},
                  root / MI_DIR / "data" / "val-00000-of-00001.parquet")
    return root


def scores(results: dict) -> dict[str, float]:
    """Val and MI-val accuracy in % (lmms-eval already reports percent)."""
    return {"val": float(results["results"][TASK]["accuracy,none"]),
            "mi_val": float(results["results"][MI_TASK]["accuracy,none"])}


register(Benchmark(
    name="mmt",
    tasks=(TASK, MI_TASK),
    make_fixture=make_fixture,
    scores=scores,
    data_help=(
        "Download the Hugging Face datasets lmms-lab/MMT-Benchmark and lmms-lab/MMT_MI-Benchmark "
        f"into the subfolders {MMT_DIR}/ and {MI_DIR}/ of one folder (e.g. `huggingface-cli "
        f"download lmms-lab/MMT-Benchmark --repo-type dataset --local-dir <folder>/{MMT_DIR}`) "
        "and pass --data <folder>; every val-*.parquet under each subfolder is read."
    ),
))
