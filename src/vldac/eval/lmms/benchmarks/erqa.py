"""ERQA (embodied reasoning, Gemini Robotics) through lmms-eval's ``erqa`` task, naive and CoT.

Data: ``FlagEval/ERQA`` (split ``test``, 400 multiple-choice questions; columns ``question_id``,
``question`` (options embedded), ``images`` (one or more), ``answer`` (a letter A-D),
``question_type``), as parquet files named ``test-*.parquet`` anywhere under the data folder.

Two tasks, both scored by lmms-eval (``erqa_process_results``: ``extract_mcq_answer`` over A-D,
which prefers the last letter in the most explicit format; accuracy overall):

- ``vldac_erqa`` (naive): lmms-eval's task as it is: the question alone, up to 1024 new tokens.
- ``vldac_erqa_cot``: the question followed by :data:`COT_INSTRUCTION`, up to 1024 new tokens
  without lmms-eval's default stop at the first blank line (which would cut the reasoning before
  its answer line). lmms-eval has no CoT variant and the paper's CoT prompt is not published
  (UNCONFIRMED): this instruction is ours. Scoring reads the letter from the text after the
  last "Answer:" when the reply has one (else from the whole reply), with lmms-eval's
  extractor: on a whole reasoning text that extractor ranks a reply's first word above all
  else, so "A robot would ..." would count as option A.

Headline scores: ``naive`` and ``cot`` (accuracy in %, Table 3's "ERQA naive" / "ERQA CoT").
"""

from __future__ import annotations

from pathlib import Path

from vldac.eval.lmms.registry import Benchmark, register

TASK = "vldac_erqa"
COT_TASK = "vldac_erqa_cot"
DATA_FILES = "**/test-*.parquet"
COT_INSTRUCTION = ("\nThink step by step about the images and the question. Then end your "
                   "reply with a line of the form \"Answer: X\", where X is the letter of the "
                   "correct option.")

# (question_type, question, options, right option, images: (colour, shape) list)
_QUESTIONS = [
    ("Spatial Reasoning", "Which colour is the shape in the image?",
     ["red", "green", "blue", "yellow"], 2, [("blue", "square")]),
    ("Multi-view Reasoning", "Do the two images show a shape of the same colour?",
     ["yes", "no"], 0, [("red", "circle"), ("red", "square")]),
    ("Task Reasoning", "Which shape would a gripper pick to get the green object?",
     ["the circle", "the square", "neither", "both"], 0, [("green", "circle")]),
    ("Action Reasoning", "What is drawn in the middle of the image?",
     ["a circle", "a square", "a line", "nothing"], 1, [("yellow", "square")]),
]


def cot_doc_to_text(doc: dict) -> str:
    """lmms-eval's ERQA text (the question) followed by the step-by-step instruction."""
    from lmms_eval.tasks.erqa.utils import erqa_doc_to_text

    return erqa_doc_to_text(doc) + COT_INSTRUCTION


def cot_doc_to_messages(doc: dict, lmms_eval_specific_kwargs=None) -> list[dict]:
    """lmms-eval's ERQA messages (images, then text) with the CoT text."""
    from lmms_eval.tasks.erqa.utils import erqa_doc_to_messages

    messages = erqa_doc_to_messages(doc, lmms_eval_specific_kwargs)
    messages[0]["content"][-1] = {"type": "text", "text": cot_doc_to_text(doc)}
    return messages


def cot_process_results(doc: dict, results: list[str]) -> dict:
    """lmms-eval's ``erqa_process_results`` on the reply's final answer line (see above)."""
    from lmms_eval.tasks.erqa.utils import erqa_process_results

    reply = results[0]
    head, marker, answer = reply.rpartition("Answer:")
    scored = erqa_process_results(doc, [answer if marker else reply])
    scored["erqa_acc"]["pred"] = reply  # the log keeps the whole reply
    return scored


def make_fixture(root: Path) -> Path:
    """Write a tiny ERQA (one and two-image questions, the real columns) under ``root``."""
    import datasets

    from vldac.eval.lmms.benchmarks._synthetic import shape_image, write_parquet

    rows = []
    for number, (kind, question, options, right, images) in enumerate(_QUESTIONS):
        choices = " ".join(f"{'ABCD'[i]}. {option}" for i, option in enumerate(options))
        rows.append({
            "question_id": f"erqa_{number}", "question": f"{question} Choices: {choices}.",
            "images": [shape_image(colour, shape) for colour, shape in images],
            "answer": "ABCD"[right], "question_type": kind,
        })
    string = datasets.Value("string")
    write_parquet(rows, {
        "question_id": string, "question": string,
        "images": datasets.Sequence(datasets.Image()), "answer": string, "question_type": string,
    }, root / "data" / "test-00000-of-00001.parquet")
    return root


def scores(results: dict) -> dict[str, float]:
    """Naive and CoT accuracy in % from ``simple_evaluate``'s results."""
    return {"naive": 100.0 * float(results["results"][TASK]["erqa_acc,none"]),
            "cot": 100.0 * float(results["results"][COT_TASK]["erqa_acc,none"])}


register(Benchmark(
    name="erqa",
    tasks=(TASK, COT_TASK),
    make_fixture=make_fixture,
    scores=scores,
    data_help=(
        "Download the Hugging Face dataset FlagEval/ERQA (e.g. `huggingface-cli download "
        "FlagEval/ERQA --repo-type dataset --local-dir <folder>`) and pass --data <folder>; "
        "every parquet file named test-*.parquet under it is read."
    ),
))
