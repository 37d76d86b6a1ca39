"""GQA (testdev-balanced) through lmms-eval's own ``gqa`` task, on local parquet files.

Data: two configs of ``lmms-lab/GQA``, as the hub lays them out:
``testdev_balanced_instructions/testdev-*.parquet`` (12,578 questions; ``id``, ``imageId``,
``question``, ``answer``, ``fullAnswer``, ...) and ``testdev_balanced_images/testdev-*.parquet``
(398 images; ``id``, ``image``). A question's image is the image whose ``id`` is its ``imageId``.

Prompt, generation settings and metric are lmms-eval's ``gqa.yaml``: the question plus
"\\nAnswer the question using a single word or phrase.", greedy, 16 new tokens; exact match
ignoring case and punctuation (lmms-eval's registered ``exact_match``), averaged.

One difference from lmms-eval's default: its ``gqa_process_docs`` downloads the image config from
the hub (``load_dataset("lmms-lab-encoder/GQA", "testdev_balanced_images")``); ours,
:func:`process_docs`, reads the same config from the local files (through the run's private
``$HF_HOME/gqa`` link to the data folder) and joins it the same way (``imageId`` -> RGB image).

Headline score: ``accuracy`` (exact-match accuracy in %, Table 4's GQA row).
"""

from __future__ import annotations

import os
from pathlib import Path

from vldac.eval.lmms.registry import Benchmark, register

TASK = "vldac_gqa"
INSTRUCTIONS = "testdev_balanced_instructions/testdev-*.parquet"
IMAGES = "testdev_balanced_images/testdev-*.parquet"
HF_HOME_LINK = "gqa"

# (imageId, colour, shape, [(question, answer, fullAnswer, structural, semantic, detailed)])
_IMAGES = [
    ("n100001", "red", "square", [
        ("What color is the square?", "red", "The square is red.", "query", "attr",
         "colorObj"),
        ("Is there a circle in the image?", "no", "No, there is a square.", "verify", "obj",
         "existC"),
    ]),
    ("n100002", "blue", "circle", [
        ("What shape is the blue object?", "circle", "The object is a circle.", "query", "obj",
         "categoryAttr"),
        ("Is the circle blue?", "yes", "Yes, the circle is blue.", "verify", "attr",
         "verifyAttr"),
    ]),
    ("n100003", "green", "square", [
        ("Which color is the shape, green or yellow?", "green", "The shape is green.", "choose",
         "attr", "chooseAttr"),
    ]),
]


def process_docs(dataset):
    """lmms-eval's ``gqa_process_docs`` reading the image config locally: adds ``image``."""
    import glob

    import datasets

    pattern = os.path.join(os.environ.get("HF_HOME", ""), HF_HOME_LINK, IMAGES)
    files = sorted(glob.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no GQA image file matches {pattern}; the data folder needs "
                                f"{IMAGES} next to {INSTRUCTIONS}.")
    images = datasets.load_dataset("parquet", data_files={"testdev": files}, split="testdev")
    id2image = {row["id"]: row["image"].convert("RGB") for row in images}
    missing = sorted(set(dataset["imageId"]) - set(id2image))
    if missing:
        raise ValueError(f"{len(missing)} GQA questions refer to images missing from "
                         f"{IMAGES} (e.g. {missing[0]}).")
    return dataset.map(lambda doc: {"image": id2image[doc["imageId"]]})


def make_fixture(root: Path) -> Path:
    """Write a tiny GQA testdev-balanced (both configs, real layout and columns) under ``root``."""
    import datasets

    from vldac.eval.lmms.benchmarks._synthetic import shape_image, write_parquet

    root = Path(root)
    questions, images = [], []
    for image_id, colour, shape, asked in _IMAGES:
        images.append({"id": image_id, "image": shape_image(colour, shape)})
        for question, answer, full, structural, semantic, detailed in asked:
            questions.append({
                "id": f"{2000000 + len(questions)}", "imageId": image_id, "question": question,
                "answer": answer, "fullAnswer": full, "isBalanced": True,
                "groups": {"global": None, "local": f"{len(questions)}-{detailed}"},
                "entailed": "", "equivalent": f"{2000000 + len(questions)}",
                "types": {"structural": structural, "semantic": semantic,
                          "detailed": detailed},
                "semanticStr": f"select: {shape} ->{semantic}",
            })
    string = datasets.Value("string")
    write_parquet(questions, {
        "id": string, "imageId": string, "question": string, "answer": string,
        "fullAnswer": string, "isBalanced": datasets.Value("bool"),
        "groups": {"global": string, "local": string}, "entailed": string,
        "equivalent": string,
        "types": {"structural": string, "semantic": string, "detailed": string},
        "semanticStr": string,
    }, root / "testdev_balanced_instructions" / "testdev-00000-of-00001.parquet")
    write_parquet(images, {"id": string, "image": datasets.Image()},
                  root / "testdev_balanced_images" / "testdev-00000-of-00001.parquet")
    return root


def scores(results: dict) -> dict[str, float]:
    """Exact-match accuracy in % from ``simple_evaluate``'s results."""
    return {"accuracy": 100.0 * float(results["results"][TASK]["exact_match,none"])}


register(Benchmark(
    name="gqa",
    tasks=(TASK,),
    make_fixture=make_fixture,
    scores=scores,
    data_help=(
        "Download the configs testdev_balanced_instructions and testdev_balanced_images of the "
        "Hugging Face dataset lmms-lab/GQA (e.g. `huggingface-cli download lmms-lab/GQA "
        "--repo-type dataset --include 'testdev_balanced_*/*' --local-dir <folder>`) and pass "
        f"--data <folder>, so that {INSTRUCTIONS} and {IMAGES} match under it."
    ),
    hf_home_links={HF_HOME_LINK: "."},
))
