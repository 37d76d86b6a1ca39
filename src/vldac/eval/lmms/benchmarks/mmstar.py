"""MMStar through lmms-eval's own ``mmstar`` task, on a local parquet file.

Data: ``Lin-Chen/MMStar``'s ``mmstar.parquet`` (split ``val``, 1,500 rows; columns ``index``,
``question`` (options embedded as "Options: A: ..., B: ..."), ``image``, ``answer`` (a letter),
``category`` (6), ``l2_category`` (18), ``meta_info``).

Prompt, letter extraction and aggregation are lmms-eval's (``lmms_eval.tasks.mmstar.utils``):
the question plus "\\nAnswer with the option's letter from the given choices directly"; the
reply's letter is read by ``extract_mcq_answer`` over A-D; each category's score (and
``average``) is the mean over its L2 categories of their accuracies. The only change from
lmms-eval's ``mmstar.yaml`` is where the rows come from.

Headline scores, in %: ``average`` (Table 4's "MMStar avg") and each category's score under the
category's name (``coarse perception``, ...).
"""

from __future__ import annotations

from pathlib import Path

from vldac.eval.lmms.registry import Benchmark, register

TASK = "vldac_mmstar"
DATA_FILES = "mmstar.parquet"

L2_CATEGORIES = {
    "coarse perception": ["image scene and topic", "image style & quality", "image emotion"],
    "fine-grained perception": ["object counting", "recognition", "localization"],
    "instance reasoning": ["single-instance reasoning", "cross-instance attribute reasoning",
                           "cross-instance relation reasoning"],
    "logical reasoning": ["code & sequence reasoning", "diagram reasoning", "common reasoning"],
    "science & technology": ["biology & chemistry & physics",
                             "electronics & energy & mechanical eng.",
                             "geography & earth science & agriculture"],
    "math": ["geometry", "numeric commonsense and calculation", "statistical reasoning"],
}
_OPTIONS = ["red", "green", "blue", "yellow"]


def make_fixture(root: Path) -> Path:
    """Write a tiny MMStar in the real schema at ``root/mmstar.parquet``: one question per L2."""
    import datasets

    from vldac.eval.lmms.benchmarks._synthetic import shape_image, write_parquet

    rows = []
    l2_pairs = [(c, l2) for c, l2s in L2_CATEGORIES.items() for l2 in l2s]
    for index, (category, l2) in enumerate(l2_pairs):
        right = index % len(_OPTIONS)
        options = ", ".join(f"{'ABCD'[i]}: {colour}" for i, colour in enumerate(_OPTIONS))
        rows.append({
            "index": index,
            "question": f"What colour is the square?\nOptions: {options}",
            "image": shape_image(_OPTIONS[right], "square"),
            "answer": "ABCD"[right],
            "category": category,
            "l2_category": l2,
            "meta_info": {"source": "synthetic", "split": "val", "image_path": f"{index}.png"},
        })
    string = datasets.Value("string")
    features = {
        "index": datasets.Value("int64"), "question": string, "image": datasets.Image(),
        "answer": string, "category": string, "l2_category": string,
        "meta_info": {"source": string, "split": string, "image_path": string},
    }
    write_parquet(rows, features, root / DATA_FILES)
    return root


def scores(results: dict) -> dict[str, float]:
    """Headline numbers from ``simple_evaluate``'s results, in %."""
    task = results["results"][TASK]
    out = {"average": 100.0 * float(task["average,none"])}
    for category in L2_CATEGORIES:
        key = f"{category},none"
        if key in task:
            out[category] = 100.0 * float(task[key])
    return out


register(Benchmark(
    name="mmstar",
    tasks=(TASK,),
    make_fixture=make_fixture,
    scores=scores,
    data_help=(
        "Download mmstar.parquet of the Hugging Face dataset Lin-Chen/MMStar (e.g. "
        "`huggingface-cli download Lin-Chen/MMStar mmstar.parquet --repo-type dataset "
        "--local-dir <folder>`) and pass --data <folder>."
    ),
))
