"""MME-RealWorld (English) through lmms-eval's own ``mmerealworld`` task, on local parquet files.

Data: ``yifanzhang114/MME-RealWorld-Lmms-eval`` (split ``train``; columns ``index``,
``question``, ``multi-choice options`` (strings "(A) ..."), ``answer`` (a letter), ``category``
("<Perception|Reasoning>/<subtask>"), ``l2-category``, ``bytes`` (the image as base64)), as
every parquet file under the data folder.

Prompt, generation settings and scoring are lmms-eval's (``lmms_eval.tasks.mme_realworld.utils``):
the question, "The choices are listed below:", the options, the instruction to answer with the
letter and "The best answer is: "; 16 new tokens; the first A-E in the reply is the answer;
the score is the accuracy over all questions (perception and reasoning together). The only
change from lmms-eval's ``mme_realworld.yaml`` is where the rows come from.

Headline score: ``accuracy`` (in %, Table 4's MME-RealWorld row).
"""

from __future__ import annotations

from pathlib import Path

from vldac.eval.lmms.registry import Benchmark, register

TASK = "vldac_mme_realworld"
DATA_FILES = "**/*.parquet"
SUBTASKS = ["Monitoring", "Autonomous_Driving", "OCR with Complex Context", "Diagram and Table",
            "Remote Sensing"]
_COLOURS = ["red", "green", "blue", "yellow", "white"]


def make_fixture(root: Path) -> Path:
    """Write a tiny MME-RealWorld under ``root``: one question per (task, subtask) pair."""
    import datasets

    from vldac.eval.lmms.benchmarks._synthetic import image_base64, shape_image, write_parquet

    rows = []
    for task in ("Perception", "Reasoning"):
        for subtask in SUBTASKS:
            right = len(rows) % len(_COLOURS)
            rows.append({
                "index": len(rows),
                "question": "What colour is the square in the image?",
                "multi-choice options": [f"({'ABCDE'[i]}) {c}" for i, c in enumerate(_COLOURS)],
                "answer": "ABCDE"[right],
                "category": f"{task}/{subtask}",
                "l2-category": "attribute/color" if task == "Perception" else "color",
                "bytes": image_base64(shape_image(_COLOURS[right], "square",
                                                  background="black")),
            })
    string = datasets.Value("string")
    write_parquet(rows, {
        "index": datasets.Value("int64"), "question": string,
        "multi-choice options": datasets.Sequence(string), "answer": string, "category": string,
        "l2-category": string, "bytes": string,
    }, root / "data" / "train-00000-of-00001.parquet")
    return root


def scores(results: dict) -> dict[str, float]:
    """Accuracy in % from ``simple_evaluate``'s results."""
    return {"accuracy": 100.0 * float(results["results"][TASK]["mme_realworld_score,none"])}


register(Benchmark(
    name="mme_realworld",
    tasks=(TASK,),
    make_fixture=make_fixture,
    scores=scores,
    data_help=(
        "Download the Hugging Face dataset yifanzhang114/MME-RealWorld-Lmms-eval (e.g. "
        "`huggingface-cli download yifanzhang114/MME-RealWorld-Lmms-eval --repo-type dataset "
        "--local-dir <folder>`) and pass --data <folder>; every parquet file under it is read."
    ),
))
