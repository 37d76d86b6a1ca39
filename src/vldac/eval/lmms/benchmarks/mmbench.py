"""MMBench-dev (English) through lmms-eval, offline: the ``mmbench_en_dev_static`` scoring.

Data: the ``lmms-lab/MMBench`` parquet files of config ``en``, split ``dev``
(``en/dev-*.parquet``; columns ``index``, ``question``, ``hint``, ``A``-``D``, ``answer``,
``category``, ``image``, ``source``, ``L2-category``, ``comment``, ``split``). The dev set holds
each question several times with its options rotated (CircularEval): the copies share
``index % 1e6`` and a question counts as right only when every copy is.

Prompt and processing are lmms-eval's (``lmms_eval.tasks.mmbench.en_utils``): "[hint ]question
There are several options:\\nA. ..\\n...\\nAnswer with the option's letter from the given choices
directly." Scoring is lmms-eval's ``mmbench_aggregate_dev_results_static``, the circular
evaluation with offline answer extraction.

Differences from lmms-eval's default ``mmbench_en_dev`` (which the paper most likely ran,
UNCONFIRMED):

- A reply from which the heuristic matcher (letter, then option text) cannot read an option is
  scored by lmms-eval's regex extractor (``extract_mcq_answer``) instead of being sent to an
  OpenAI model (``gpt_eval_score`` with the OpenAI fallback needs a key and the network). For
  replies that name a letter the two agree; they differ only on free-text replies.
- The ``submission`` metric (an .xlsx of all predictions, which needs openpyxl) is not computed;
  the per-sample log holds the same predictions.

Headline score: ``accuracy`` (circular accuracy in %, Table 4's MMBench-dev row).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace

from vldac.eval.lmms.registry import Benchmark, register

TASK = "vldac_mmbench_en_dev"
DATA_FILES = "en/dev-*.parquet"
CIRCULAR_OFFSET = 1_000_000
LETTERS = "ABCD"

# (question, hint, options, index of the right option, category, L2-category)
_QUESTIONS = [
    ("What colour is the square?", None, ["red", "green", "blue", "yellow"], 0,
     "attribute_recognition", "Fine-grained Perception (instance)"),
    ("Which shape is drawn?", "The image shows one shape on a white background.",
     ["circle", "square"], 0, "object_localization", "Fine-grained Perception (instance)"),
    ("How many shapes are in the image?", None, ["one", "two", "three"], 0,
     "image_scene", "Coarse Perception"),
]
_DRAWN = [("red", "square"), ("green", "circle"), ("blue", "square")]


def circular_rows(index: int, options: list[str], right: int) -> list[tuple[int, list, str]]:
    """CircularEval copies of one question: ``(index, options A-D, answer letter)`` per rotation.

    Copy ``k`` has index ``index + k * 1e6`` and the options shifted left by ``k``, as in the
    real dev set; missing options (questions with fewer than four) are ``None``.
    """
    copies = []
    for shift in range(len(options)):
        rotated = options[shift:] + options[:shift]
        answer = LETTERS[(right - shift) % len(options)]
        padded = rotated + [None] * (len(LETTERS) - len(rotated))
        copies.append((index + shift * CIRCULAR_OFFSET, padded, answer))
    return copies


def make_fixture(root: Path) -> Path:
    """Write a tiny MMBench-dev (en) in the real layout and schema under ``root``.

    Three questions (4, 2 and 3 options, one with a hint), each with all its circular copies.
    """
    import datasets

    from vldac.eval.lmms.benchmarks._synthetic import shape_image, write_parquet

    rows = []
    for number, (question, hint, options, right, category, l2) in enumerate(_QUESTIONS):
        image = shape_image(*_DRAWN[number])
        for index, rotated, answer in circular_rows(number, options, right):
            rows.append({
                "index": index, "question": question, "hint": hint,
                **dict(zip(LETTERS, rotated, strict=True)), "answer": answer, "category": category,
                "image": image, "source": "synthetic", "L2-category": l2, "comment": None,
                "split": "dev",
            })
    string = datasets.Value("string")
    features = {
        "index": datasets.Value("int64"), "question": string, "hint": string,
        **{letter: string for letter in LETTERS}, "answer": string, "category": string,
        "image": datasets.Image(), "source": string, "L2-category": string, "comment": string,
        "split": string,
    }
    write_parquet(rows, features, root / "en" / "dev-00000-of-00001.parquet")
    return root


def process_results(doc: dict, results: list[str]) -> dict:
    """lmms-eval's ``mmbench_process_results`` without its ``submission`` entry (not a metric
    here: an entry without an aggregation would surface in the results as an empty value)."""
    from lmms_eval.tasks.mmbench.en_utils import mmbench_process_results

    return {"gpt_eval_score": mmbench_process_results(doc, results)["gpt_eval_score"]}


def aggregate_dev_static(results: list[dict], args=None) -> float:
    """lmms-eval's ``mmbench_aggregate_dev_results_static`` (circular accuracy in %).

    lmms-eval writes a details file to ``<args.output_path>/submissions`` or, without an output
    path (the Python API), to ``./submissions``; a run of ours keeps the current folder clean by
    giving it a scratch folder instead (the per-category accuracies are in lmms-eval's log).
    """
    from lmms_eval.tasks.mmbench.en_utils import mmbench_aggregate_dev_results_static

    if getattr(args, "output_path", None):
        return mmbench_aggregate_dev_results_static(results, args)
    with tempfile.TemporaryDirectory(prefix="vldac-mmbench-") as scratch:
        return mmbench_aggregate_dev_results_static(results, SimpleNamespace(output_path=scratch))


def scores(results: dict) -> dict[str, float]:
    """Headline number from ``simple_evaluate``'s results: circular accuracy in %."""
    return {"accuracy": float(results["results"][TASK]["gpt_eval_score,none"])}


register(Benchmark(
    name="mmbench",
    tasks=(TASK,),
    make_fixture=make_fixture,
    scores=scores,
    data_help=(
        "Download the config en of the Hugging Face dataset lmms-lab/MMBench (e.g. "
        "`huggingface-cli download lmms-lab/MMBench --repo-type dataset --include 'en/*' "
        f"--local-dir <folder>`) and pass --data <folder>, so that {DATA_FILES} matches under it."
    ),
))
