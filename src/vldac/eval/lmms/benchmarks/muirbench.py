"""MuirBench (multi-image understanding) through lmms-eval's own ``muirbench`` task, locally.

Data: ``MUIRBENCH/MUIRBENCH`` (split ``test``, 2,600 questions; columns ``idx``, ``task``,
``image_relation``, ``image_type``, ``question``, ``options`` (list of option texts), ``answer``
(a letter), ``image_list`` (the images), ``counterpart_idx``), as parquet files named
``test-*.parquet`` anywhere under the data folder.

Prompt, generation settings and scoring are lmms-eval's (``lmms_eval.tasks.muirbench.utils``):
the question, the lettered options, "\\nAnswer with the option's letter from the given choices
directly."; 16 new tokens; a reply starting "X." is read as the letter X, any other reply is
compared whole; accuracy is exact (case-insensitive) match with the answer letter over all
questions. The only change from lmms-eval's ``muirbench.yaml`` besides the data source: its
filter is named ``none`` instead of ``flexible-extract`` (the metric key our runner reads).

Headline score: ``accuracy`` (in %, Table 3's MuirBench row).
"""

from __future__ import annotations

from pathlib import Path

from vldac.eval.lmms.registry import Benchmark, register

TASK = "vldac_muirbench"
DATA_FILES = "**/test-*.parquet"

# (task, image_relation, question, options, right, images)
_QUESTIONS = [
    ("Image-Text Matching", "Independent", "Which image shows a red square?",
     ["The first image", "The second image"], 1, [("blue", "circle"), ("red", "square")]),
    ("Counting", "Similar", "How many images show a circle?", ["0", "1", "2", "3"], 2,
     [("green", "circle"), ("yellow", "circle"), ("blue", "square")]),
    ("Visual Retrieval", "Complementary", "Which image has the same colour as the first?",
     ["The second image", "The third image", "None of the choices provided"], 0,
     [("green", "square"), ("green", "circle"), ("red", "circle")]),
]


def make_fixture(root: Path) -> Path:
    """Write a tiny MuirBench (multi-image questions, the real columns) under ``root``."""
    import datasets

    from vldac.eval.lmms.benchmarks._synthetic import shape_image, write_parquet

    rows = []
    for number, (task, relation, question, options, right, images) in enumerate(_QUESTIONS):
        rows.append({
            "idx": f"{task}_{number}", "task": task, "image_relation": relation,
            "image_type": "synthetic", "question": question, "options": options,
            "answer": "ABCDEFGH"[right],
            "image_list": [shape_image(colour, shape) for colour, shape in images],
            "counterpart_idx": "",
        })
    string = datasets.Value("string")
    write_parquet(rows, {
        "idx": string, "task": string, "image_relation": string, "image_type": string,
        "question": string, "options": datasets.Sequence(string), "answer": string,
        "image_list": datasets.Sequence(datasets.Image()), "counterpart_idx": string,
    }, root / "data" / "test-00000-of-00001.parquet")
    return root


def scores(results: dict) -> dict[str, float]:
    """Accuracy in % from ``simple_evaluate``'s results."""
    return {"accuracy": 100.0 * float(results["results"][TASK]["muirbench_score_overall,none"])}


register(Benchmark(
    name="muirbench",
    tasks=(TASK,),
    make_fixture=make_fixture,
    scores=scores,
    data_help=(
        "Download the Hugging Face dataset MUIRBENCH/MUIRBENCH (e.g. `huggingface-cli download "
        "MUIRBENCH/MUIRBENCH --repo-type dataset --local-dir <folder>`) and pass --data "
        "<folder>; every parquet file named test-*.parquet under it is read."
    ),
))
