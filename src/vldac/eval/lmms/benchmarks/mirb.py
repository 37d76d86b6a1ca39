"""MIRB (multi-image reasoning) through lmms-eval's own ``mirb`` task, on local parquet files.

Data: ``VLLMs/MIRB-hf`` (split ``test``; columns ``question_id``, ``subset`` (11 subsets),
``questions``, ``answers`` (a letter for the option subsets, else a word, title or number),
``image_list``), as parquet files named ``test-*.parquet`` anywhere under the data folder.

Prompt, generation settings and scoring are lmms-eval's (``lmms_eval.tasks.mirb.utils``): the
subset's instruction glued to the question; 64 new tokens; option letters matched exactly, open
answers by MMMU's rules (numbers compared as numbers, strings by containment); the score is
the accuracy over all questions. lmms-eval's aggregation also averages four dimensions over
the subsets and raises ``KeyError`` unless all 11 subsets are present; our aggregation is
lmms-eval's behind a check that says so plainly (a ``--limit`` run can lack subsets).

Headline score: ``accuracy`` (in %, Table 4's MIRB row).
"""

from __future__ import annotations

from pathlib import Path

from vldac.eval.lmms.registry import Benchmark, register

TASK = "vldac_mirb"
DATA_FILES = "**/test-*.parquet"

# subset -> (question, answer, images): the 11 subsets lmms-eval's aggregation expects
_SUBSETS = {
    "analogy": ("\nThe first image is to the second as the third is to what colour?", "red",
                [("red", "square"), ("red", "circle"), ("red", "square")]),
    "attribute": ("\nWhat colour do the shapes share?", "blue",
                  [("blue", "square"), ("blue", "circle")]),
    "plot_code": ("\nWhich colour is the square?", "green", [("green", "square")]),
    "visual_chain": ("\nWhat colour is the last shape?", "yellow",
                     [("red", "square"), ("yellow", "circle")]),
    "sightseeing": ("\nWhat shape is shown?", "circle", [("blue", "circle")]),
    "codeu": ("\nWhich image shows a square? A: first B: second", "B",
              [("green", "circle"), ("green", "square")]),
    "food": ("\nWhich image is red? A: first B: second C: neither", "A",
             [("red", "circle"), ("blue", "circle")]),
    "image_jigsaw": ("\nWhich piece fits? A: left B: right", "A",
                     [("white", "square"), ("black", "square")]),
    "arxiv": ("\nWhich paper shows this figure?", "shapes in colour",
              [("yellow", "square")]),
    "count": ("\nHow many circles are there in all images?", "2",
              [("red", "circle"), ("blue", "circle")]),
    "3d_scene": ("\nHow many squares are in the scene?", "1", [("green", "square")]),
}


def aggregate(results: list[dict]) -> float:
    """lmms-eval's ``mirb_aggregation``, after checking that every subset is present."""
    from lmms_eval.tasks.mirb.utils import mirb_aggregation

    missing = sorted(set(_SUBSETS) - {result["subset"] for result in results})
    if missing:
        raise ValueError(f"MIRB's score needs all 11 subsets and this run has no "
                         f"{', '.join(missing)} question (a --limit too small?); run without "
                         "--limit.")
    return mirb_aggregation(results)


def make_fixture(root: Path) -> Path:
    """Write a tiny MIRB (one multi-image question per subset, the real columns) under ``root``."""
    import datasets

    from vldac.eval.lmms.benchmarks._synthetic import shape_image, write_parquet

    rows = []
    for number, (subset, (question, answer, images)) in enumerate(_SUBSETS.items()):
        rows.append({
            "question_id": f"{subset}_{number}", "subset": subset, "questions": question,
            "answers": answer,
            "image_list": [shape_image(colour, shape) for colour, shape in images],
        })
    string = datasets.Value("string")
    write_parquet(rows, {
        "question_id": string, "subset": string, "questions": string, "answers": string,
        "image_list": datasets.Sequence(datasets.Image()),
    }, root / "data" / "test-00000-of-00001.parquet")
    return root


def scores(results: dict) -> dict[str, float]:
    """Accuracy in % from ``simple_evaluate``'s results."""
    return {"accuracy": 100.0 * float(results["results"][TASK]["mirb_score,none"])}


register(Benchmark(
    name="mirb",
    tasks=(TASK,),
    make_fixture=make_fixture,
    scores=scores,
    data_help=(
        "Download the Hugging Face dataset VLLMs/MIRB-hf (e.g. `huggingface-cli download "
        "VLLMs/MIRB-hf --repo-type dataset --local-dir <folder>`) and pass --data <folder>; "
        "every parquet file named test-*.parquet under it is read."
    ),
))
