"""Video-MME (without subtitles) through lmms-eval's own ``videomme`` task, on local files.

Data: ``lmms-lab/Video-MME`` as the hub lays it out: the questions as parquet
(``videomme/test-*.parquet``, 2,700 rows; columns ``video_id``, ``duration``
(short/medium/long), ``domain``, ``sub_category``, ``url``, ``videoID``, ``question_id``,
``task_type`` (12 types), ``question``, ``options`` ("A. ..."), ``answer`` (a letter)) and the
videos of ``videos_chunked_*.zip`` unzipped in the same folder, so that a question's video is
``<data>/data/<videoID>.mp4``. Every ``test-*.parquet`` under the data folder is read.

Prompt, generation settings and scoring are lmms-eval's (``lmms_eval.tasks.videomme.utils``):
"Select the best answer ... Respond with only the letter (A, B, C, or D) of the correct
option.", the question, the options, "\\nAnswer with the option's letter from the given choices
directly."; 16 new tokens; ``extract_mcq_answer`` over A-D; accuracy over all questions, in %.
Frames: our model class samples up to 32 frames uniformly (the paper's max_num_frames).
Changes from lmms-eval's ``videomme.yaml``: the data source (no hub snapshot), and
``process_docs`` checks up front that every video exists (lmms-eval's ``doc_to_visual`` calls
``sys.exit`` on a missing one). The subtitle variant is not provided.

Headline scores: ``overall`` (accuracy in %, Table 4's VideoMME row) and ``spatial``: lmms-eval's aggregation
over the questions of the types "Spatial Perception" and "Spatial Reasoning" of the same run
(Table 3's "VideoMME spatial"; that the paper's row means exactly these two types is
UNCONFIRMED).
"""

from __future__ import annotations

import os
from pathlib import Path

from vldac.eval.lmms.registry import Benchmark, register

TASK = "vldac_videomme"
HF_HOME_LINK = "videomme"
SPATIAL_TYPES = ("Spatial Perception", "Spatial Reasoning")
METRIC = "videomme_perception_score"

# (videoID, duration, domain, sub_category, task_type, colour, question, options, right)
_QUESTIONS = [
    ("fx001", "short", "Knowledge", "Geography", "Spatial Perception", "red",
     "Where does the square end up?", ["on the left", "on the right", "in the middle", "gone"], 1),
    ("fx001", "short", "Knowledge", "Geography", "Attribute Perception", "red",
     "What colour is the square?", ["red", "green", "blue", "yellow"], 0),
    ("fx002", "medium", "Life Record", "Daily Life", "Spatial Reasoning", "blue",
     "Which way does the square move?", ["up", "down", "left to right", "right to left"], 2),
    ("fx003", "long", "Sports Competition", "Football", "Counting Problem", "green",
     "How many squares are in the video?", ["0", "1", "2", "3"], 1),
]


def _video_dir() -> str:
    return os.path.join(os.path.expanduser(os.environ.get("HF_HOME", "")), HF_HOME_LINK, "data")


def check_videos(dataset):
    """The docs unchanged, after checking that each ``videoID`` has its video (.mp4/.MP4/.mkv,
    the names lmms-eval's ``videomme_doc_to_visual`` tries)."""
    folder = _video_dir()
    present = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    missing = sorted({video for video in dataset["videoID"]
                      if not {f"{video}.mp4", f"{video}.MP4", f"{video}.mkv"} & present})
    if missing:
        raise FileNotFoundError(f"{len(missing)} Video-MME videos are missing from the data "
                                f"folder's data/ (e.g. {missing[0]}.mp4); unzip the video "
                                "archives there.")
    return dataset


def make_fixture(root: Path) -> Path:
    """Write a tiny Video-MME under ``root``: the parquet (real columns) and synthetic videos."""
    import datasets

    from vldac.eval.lmms.benchmarks._synthetic import write_parquet, write_shape_video

    rows = []
    for number, (video, duration, domain, sub, kind, colour, question, options, right) in \
            enumerate(_QUESTIONS):
        rows.append({
            "video_id": f"{number // 3 + 1:03d}", "duration": duration, "domain": domain,
            "sub_category": sub, "url": f"https://example.invalid/{video}", "videoID": video,
            "question_id": f"{video}-{number}", "task_type": kind, "question": question,
            "options": [f"{'ABCD'[i]}. {option}" for i, option in enumerate(options)],
            "answer": "ABCD"[right],
        })
        write_shape_video(root / "data" / f"{video}.mp4", colour)
    string = datasets.Value("string")
    write_parquet(rows, {
        "video_id": string, "duration": string, "domain": string, "sub_category": string,
        "url": string, "videoID": string, "question_id": string, "task_type": string,
        "question": string, "options": datasets.Sequence(string), "answer": string,
    }, root / "videomme" / "test-00000-of-00001.parquet")
    return root


def scores(results: dict) -> dict[str, float]:
    """Overall and spatial accuracy in %, both by lmms-eval's ``videomme_aggregate_results``
    (the spatial one over this run's logged samples of the two spatial types)."""
    from lmms_eval.tasks.videomme.utils import videomme_aggregate_results

    samples = results.get("samples", {}).get(TASK)
    if not samples:
        raise ValueError("Video-MME's spatial score needs lmms-eval's per-sample log "
                         "(log_samples=True).")
    out = {"overall": float(results["results"][TASK][f"{METRIC},none"])}
    spatial = [s[METRIC] for s in samples if s[METRIC]["task_category"] in SPATIAL_TYPES]
    if spatial:  # a --limit run may have none
        out["spatial"] = float(videomme_aggregate_results(spatial))
    return out


register(Benchmark(
    name="videomme",
    tasks=(TASK,),
    make_fixture=make_fixture,
    scores=scores,
    data_help=(
        "Download the Hugging Face dataset lmms-lab/Video-MME (e.g. `huggingface-cli download "
        "lmms-lab/Video-MME --repo-type dataset --local-dir <folder>`), unzip its "
        "videos_chunked_*.zip in <folder> so that the videos are <folder>/data/<videoID>.mp4, "
        "and pass --data <folder>."
    ),
    generation={"max_num_frames": 32},
    hf_home_links={HF_HOME_LINK: "."},
))
