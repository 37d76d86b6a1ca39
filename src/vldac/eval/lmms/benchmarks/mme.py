"""MME through lmms-eval's own ``mme`` task, on local parquet files.

Data: the ``lmms-lab/MME`` parquet files (``data/test-*.parquet``; 2,374 rows; columns
``question_id`` (the image's id, shared by its two questions), ``image``, ``question`` (ending in
" Please answer yes or no."), ``answer`` ("Yes"/"No"), ``category`` (14 subtasks)).

Prompt, parsing and scoring are lmms-eval's (``lmms_eval.tasks.mme.utils``): the question with
" Please answer yes or no." replaced by "\\nAnswer the question using a single word or phrase.";
a category's score is the mean over its images of acc% + acc+% (both of the image's questions
right), so at most 200; perception is the sum over its 10 categories (at most 2000), cognition
over 4 (at most 800). The only change from lmms-eval's ``mme.yaml`` is where the rows come from
(local parquet instead of the hub). Both our backends (``vldac_chat``, lmms-eval's ``qwen2_vl``)
get the ``default`` prompt; the yaml's other variants are for other model classes.

Headline scores: ``perception`` (Table 4's MME-perception row, at most 2000) and ``cognition``
(at most 800).
"""

from __future__ import annotations

from pathlib import Path

from vldac.eval.lmms.registry import Benchmark, register

TASK = "vldac_mme"
DATA_FILES = "data/test-*.parquet"

PERCEPTION = ["existence", "count", "position", "color", "posters", "celebrity", "scene",
              "landmark", "artwork", "OCR"]
COGNITION = ["commonsense_reasoning", "numerical_calculation", "text_translation",
             "code_reasoning"]

_SHAPES = [("red", "square"), ("green", "circle"), ("blue", "square"), ("yellow", "circle")]


def make_fixture(root: Path) -> Path:
    """Write a tiny MME in the real layout and schema under ``root``; returns ``root``.

    One synthetic image per category (all 14), each with the two questions MME pairs per image
    (one "Yes", one "No"), so acc+ is defined and a perfect model scores 2000 / 800.
    """
    import datasets

    from vldac.eval.lmms.benchmarks._synthetic import shape_image, write_parquet

    rows = []
    for number, category in enumerate(PERCEPTION + COGNITION):
        colour, shape = _SHAPES[number % len(_SHAPES)]
        other = _SHAPES[(number + 1) % len(_SHAPES)][0]
        image = shape_image(colour, shape)
        question_id = f"{category}/{number:04d}.png"
        for asked, answer in ((colour, "Yes"), (other, "No")):
            rows.append({
                "question_id": question_id,
                "question": f"Is the {shape} in the image {asked}? Please answer yes or no.",
                "answer": answer,
                "category": category,
                "image": image,
            })
    features = {
        "question_id": datasets.Value("string"),
        "question": datasets.Value("string"),
        "answer": datasets.Value("string"),
        "category": datasets.Value("string"),
        "image": datasets.Image(),
    }
    write_parquet(rows, features, root / "data" / "test-00000-of-00001.parquet")
    return root


def scores(results: dict) -> dict[str, float]:
    """Headline numbers from ``simple_evaluate``'s results: MME perception and cognition sums."""
    task = results["results"][TASK]
    return {
        "perception": float(task["mme_perception_score,none"]),
        "cognition": float(task["mme_cognition_score,none"]),
    }


register(Benchmark(
    name="mme",
    tasks=(TASK,),
    make_fixture=make_fixture,
    scores=scores,
    data_help=(
        "Download the Hugging Face dataset lmms-lab/MME (e.g. `huggingface-cli download "
        "lmms-lab/MME --repo-type dataset --local-dir <folder>`) and pass --data <folder>, so "
        f"that {DATA_FILES} matches under it."
    ),
))
