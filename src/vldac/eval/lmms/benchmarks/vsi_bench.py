"""VSI-Bench (visual-spatial intelligence from egocentric room videos) through lmms-eval, offline.

Data: the original release of ``nyu-visionx/VSI-Bench`` (the one the paper could have used;
5,130 questions over 288 videos): ``test-00000-of-00001.parquet`` with the columns ``id``,
``dataset``, ``scene_name``, ``question_type``, ``question``, ``ground_truth``, ``options``, and
the videos of ``arkitscenes.zip``, ``scannet.zip``, ``scannetpp.zip`` unzipped next to it, so that
a question's video is ``<data>/<dataset>/<scene_name>.mp4``.

Everything else is lmms-eval's ``vsibench`` task (``lmms_eval/tasks/vsibench``), included as it
is: the prompt ("These are frames of a video.", the question, ``Options:`` and the options for
multiple-choice types, then the one-line answer instruction), greedy decoding with 16 new
tokens, ``vsibench_process_results`` (multiple choice: exact match of the first word of the
reply; numbers: mean relative accuracy over the thresholds 0.50, 0.55, ..., 0.95) and its
aggregation (mean per question type; the three relative-direction types averaged into one;
overall = unweighted mean of the eight type scores).

Two tasks:

- ``vldac_vsibench``: every question. Its aggregation is lmms-eval's, with one guard: a run in
  which one of the three relative-direction types is missing (``--limit``) fails with a clear
  error instead of lmms-eval's ``KeyError``.
- ``vldac_vsibench_route_planning``: the route-planning questions alone (the paper's "hardest
  part"): lmms-eval's ``process_docs`` after keeping only that type, lmms-eval's
  ``vsibench_process_results``, and the route-planning mean computed as lmms-eval computes each
  type's mean (lmms-eval's own aggregation raises ``KeyError`` on such a subset).

Headline scores are in percent, as the VSI-Bench paper prints them (lmms-eval 0.7.3 reports
fractions).
"""

from __future__ import annotations

from pathlib import Path

from vldac.eval.lmms.registry import Benchmark, register, write_parquet

TASK = "vldac_vsibench"
ROUTE_TASK = "vldac_vsibench_route_planning"
DATA_FILE = "test-00000-of-00001.parquet"
VIDEO_DATASETS = ("arkitscenes", "scannet", "scannetpp")
REL_DIRECTION_TYPES = ("object_rel_direction_easy", "object_rel_direction_medium",
                       "object_rel_direction_hard")

# headline name -> lmms-eval metric of vldac_vsibench
TYPE_METRICS = {
    "object_counting": "object_counting_mra",
    "object_abs_distance": "object_abs_distance_mra",
    "object_size_estimation": "object_size_estimation_mra",
    "room_size_estimation": "room_size_estimation_mra",
    "object_rel_distance": "object_rel_distance_accuracy",
    "object_rel_direction": "object_rel_direction_accuracy",
    "route_planning": "route_planning_accuracy",
    "obj_appearance_order": "obj_appearance_order_accuracy",
}


def _lmms_vsibench():
    from lmms_eval.tasks.vsibench import utils

    return utils


# --- the route-planning-only task ------------------------------------------------------------


def route_planning_docs(dataset):
    """The route-planning questions, then lmms-eval's ``process_docs`` (its optional shuffle)."""
    kept = dataset.filter(lambda doc: doc["question_type"] == "route_planning")
    return _lmms_vsibench().process_docs(kept)


def route_planning_process_results(doc, results):
    """lmms-eval's ``vsibench_process_results``, keeping the one metric this task reports."""
    scored = _lmms_vsibench().vsibench_process_results(doc, results)
    return {"route_planning_accuracy": scored["route_planning_accuracy"]}


def route_planning_accuracy(results: list[dict]) -> float:
    """Mean exact match over the route-planning docs, rounded as lmms-eval rounds (6 places).

    The same number lmms-eval's aggregation gives the type (``per_question_type["accuracy"]
    .mean()``), without its requirement that the relative-direction types be present.
    """
    import pandas as pd

    frame = pd.DataFrame(results)
    other = sorted(set(frame["question_type"]) - {"route_planning"})
    if other:
        raise ValueError(f"the route-planning task scored other question types too ({other}).")
    return round(float(frame["accuracy"].mean()), 6)


# --- the full task: lmms-eval's aggregations behind one guard ------------------------------


def _require_rel_direction(results: list[dict]) -> None:
    present = {doc["question_type"] for doc in results}
    missing = [t for t in REL_DIRECTION_TYPES if t not in present]
    if missing:
        raise ValueError(
            f"VSI-Bench's scores need all three relative-direction types and this run has no "
            f"{', '.join(missing)} question (a --limit too small?); run without --limit or run "
            f"the benchmark vsi_bench_route_planning."
        )


def _guarded(name: str):
    def aggregate(results: list[dict]) -> float:
        _require_rel_direction(results)
        return getattr(_lmms_vsibench(), name)(results)

    aggregate.__name__ = name
    aggregate.__doc__ = f"lmms-eval's ``{name}``, after checking the relative-direction types."
    return aggregate


aggregate_overall = _guarded("vsibench_aggregate_overall")
aggregate_obj_appearance_order = _guarded("vsibench_aggregate_obj_appearance_order_accuracy")
aggregate_object_abs_distance = _guarded("vsibench_aggregate_object_abs_distance_mra")
aggregate_object_counting = _guarded("vsibench_aggregate_object_counting_mra")
aggregate_object_rel_distance = _guarded("vsibench_aggregate_object_rel_distance_accuracy")
aggregate_object_size_estimation = _guarded("vsibench_aggregate_object_size_estimation_mra")
aggregate_room_size_estimation = _guarded("vsibench_aggregate_room_size_estimation_mra")
aggregate_route_planning = _guarded("vsibench_aggregate_route_planning_accuracy")
aggregate_object_rel_direction = _guarded("vsibench_aggregate_object_rel_direction_accuracy")


# --- headline numbers -----------------------------------------------------------------------


def _task_metrics(results: dict, task: str) -> dict:
    try:
        return results["results"][task]
    except KeyError:
        raise ValueError(f"lmms-eval returned no results for {task}.") from None


def scores(results: dict) -> dict[str, float]:
    """``overall`` and every question type's score (relative direction: the mean of its
    easy/medium/hard means), in percent."""
    metrics = _task_metrics(results, TASK)
    out = {"overall": 100.0 * float(metrics["vsibench_overall,none"])}
    for name, metric in TYPE_METRICS.items():
        out[name] = 100.0 * float(metrics[f"{metric},none"])
    return out


def route_planning_scores(results: dict) -> dict[str, float]:
    """Route-planning accuracy in percent."""
    metrics = _task_metrics(results, ROUTE_TASK)
    return {"route_planning": 100.0 * float(metrics["route_planning_accuracy,none"])}


# --- fixture --------------------------------------------------------------------------------

# (dataset, scene_name): synthetic scenes named like the real ones
_SCENES = (("arkitscenes", "40000001"), ("scannet", "scene0000_00"), ("scannetpp", "00a0aa0a00"))

# (scene, question_type, question, ground_truth, options): one question per type
_QUESTIONS = (
    (0, "object_counting", "How many chair(s) are in this room?", "3", None),
    (0, "object_abs_distance", "Measuring from the closest point of each object, what is the "
     "direct distance between the sofa and the table (in meters)?", "1.5", None),
    (1, "object_size_estimation", "What is the length of the longest dimension (length, width, "
     "or height) of the bed, measured in centimeters?", "200", None),
    (1, "room_size_estimation", "What is the size of this room (in square meters)? If multiple "
     "rooms are shown, estimate the size of the combined space.", "24.5", None),
    (2, "object_rel_distance", "Measuring from the closest point of each object, which of these "
     "objects (sofa, lamp, tv, table) is the closest to the chair?", "B",
     ["A. sofa", "B. lamp", "C. tv", "D. table"]),
    (2, "object_rel_direction_easy", "If I am standing by the sofa and facing the tv, is the lamp "
     "to my left or right?", "A", ["A. left", "B. right"]),
    (0, "object_rel_direction_medium", "If I am standing by the sofa and facing the tv, is the "
     "lamp to my left, right, or back? An object is to my back if I would have to turn at least "
     "135 degrees in order to face it.", "C", ["A. left", "B. right", "C. back"]),
    (1, "object_rel_direction_hard", "If I am standing by the bed and facing the door, is the "
     "desk to my front-left, front-right, back-left, or back-right?", "D",
     ["A. front-left", "B. front-right", "C. back-left", "D. back-right"]),
    (2, "route_planning", "You are a robot beginning at the sofa and facing the tv. You want to "
     "navigate to the lamp. You will perform the following actions (Note: for each [please fill "
     "in], choose either 'turn back,' 'turn left,' or 'turn right.'): 1. [please fill in] 2. Go "
     "forward until the table 3. [please fill in] 4. Go forward until the lamp. You have reached "
     "the final destination.", "C",
     ["A. Turn Back, Turn Left", "B. Turn Left, Turn Left", "C. Turn Right, Turn Left",
      "D. Turn Back, Turn Right"]),
    (0, "obj_appearance_order", "What will be the first-time appearance order of the following "
     "categories in the video: chair, lamp, sofa, tv?", "A",
     ["A. chair, lamp, sofa, tv", "B. lamp, chair, tv, sofa", "C. sofa, tv, chair, lamp",
      "D. tv, sofa, lamp, chair"]),
)


def write_video(path: Path, num_frames: int = 16, size: tuple[int, int] = (64, 48),
                fps: int = 24) -> Path:
    """A tiny H.264 mp4 of ``num_frames`` synthetic frames (a square moving across a gradient)."""
    import av
    import numpy as np

    width, height = size
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(num_frames):
            frame = np.zeros((height, width, 3), dtype=np.uint8)
            frame[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
            frame[..., 2] = 255 * index // max(num_frames - 1, 1)
            left = (width - 16) * index // max(num_frames - 1, 1)
            frame[height // 3: height // 3 + 16, left: left + 16] = (255, 255, 255)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_fixture(root: Path) -> Path:
    """A tiny VSI-Bench under ``root``: the parquet (one question per type, route planning
    included, the real columns and types) and a synthetic video per scene."""
    import datasets

    root = Path(root)
    rows = {name: [] for name in ("id", "dataset", "scene_name", "question_type", "question",
                                  "ground_truth", "options")}
    for number, (scene, question_type, question, truth, options) in enumerate(_QUESTIONS):
        dataset, scene_name = _SCENES[scene]
        for name, value in zip(rows, (number, dataset, scene_name, question_type, question,
                                      truth, options), strict=True):
            rows[name].append(value)
    string = datasets.Value("string")
    features = datasets.Features({
        "id": datasets.Value("int64"), "dataset": string, "scene_name": string,
        "question_type": string, "question": string, "ground_truth": string,
        "options": datasets.Sequence(string),
    })
    root.mkdir(parents=True, exist_ok=True)
    write_parquet(datasets.Dataset.from_dict(rows, features=features), root / DATA_FILE)
    for dataset, scene_name in _SCENES:
        write_video(root / dataset / f"{scene_name}.mp4")
    return root


_DATA_HELP = (
    "Download the original release of the Hugging Face dataset nyu-visionx/VSI-Bench (the "
    f"revision with {DATA_FILE}, 5,130 questions) into a folder, unzip arkitscenes.zip, "
    "scannet.zip and scannetpp.zip in place so that the videos sit at "
    "<folder>/<dataset>/<scene_name>.mp4, and pass --data <folder>; the videos come under the "
    "ScanNet, ScanNet++ and ARKitScenes terms (non-commercial) and must not be committed."
)

register(Benchmark(
    name="vsi_bench",
    tasks=(TASK,),
    make_fixture=make_fixture,
    scores=scores,
    data_help=_DATA_HELP,
    generation={"max_num_frames": 32},
    hf_home_links={"vsibench": "."},
))

register(Benchmark(
    name="vsi_bench_route_planning",
    tasks=(ROUTE_TASK,),
    make_fixture=make_fixture,
    scores=route_planning_scores,
    data_help=_DATA_HELP,
    generation={"max_num_frames": 32},
    hf_home_links={"vsibench": "."},
    task_dir="vsi_bench",
))
