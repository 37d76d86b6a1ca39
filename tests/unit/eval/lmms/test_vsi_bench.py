"""VSI-Bench scoring: lmms-eval's own functions, as our task YAMLs wire them, against
hand-computed cases; the route-planning workaround; the fixture's schema."""

from pathlib import Path

import pytest

pytest.importorskip("lmms_eval")

from vldac.eval.lmms import registry  # noqa: E402
from vldac.eval.lmms.benchmarks import vsi_bench  # noqa: E402

NA_TYPES = ("object_counting", "object_abs_distance", "object_size_estimation",
            "room_size_estimation")


def _utils():
    from lmms_eval.tasks.vsibench import utils

    return utils


def _scored(question_type: str, reply: str, truth: str) -> dict:
    """One doc after lmms-eval's ``vsibench_process_results`` (what aggregations receive)."""
    doc = {"question_type": question_type, "ground_truth": truth}
    return _utils().vsibench_process_results(doc, [reply])["vsibench_overall"]


def _configs(tmp_path: Path) -> dict[str, dict]:
    from lmms_eval.utils import load_yaml_config

    folder = registry.render_tasks(registry.get("vsi_bench"), tmp_path / "data",
                                   tmp_path / "tasks")
    return {path.stem: load_yaml_config(str(path)) for path in folder.glob("*.yaml")}


# --- mean relative accuracy (numerical answers) ---------------------------------------------


@pytest.mark.parametrize(("reply", "truth", "mra"), [
    ("10", "10", 1.0),      # exact: inside all ten thresholds θ = 0.50, 0.55, ..., 0.95
    ("10.4", "10", 1.0),    # relative error 0.04 <= 1-θ for every θ
    ("9.2", "10", 0.9),     # 0.08 <= 1-θ for θ = 0.50..0.90: 9 of 10
    ("10.8", "10", 0.9),    # symmetric
    ("7.2", "10", 0.5),     # 0.28: θ = 0.50..0.70, 5 of 10
    ("5.6", "10", 0.2),     # 0.44: θ = 0.50, 0.55
    ("14.6", "10", 0.1),    # 0.46: θ = 0.50 only
    ("5", "10", 0.1),       # 0.50 <= 1-0.50: the boundary counts (the code's <=; the paper's <)
    ("4", "10", 0.0),       # 0.60: outside every threshold
    ("20", "10", 0.0),
    ("2.3", "2", 0.8),      # 0.15 on a decimal truth: θ = 0.50..0.85
])
def test_mean_relative_accuracy_hand_computed(reply, truth, mra):
    for question_type in NA_TYPES:
        assert _scored(question_type, reply, truth)["MRA:.5:.95:.05"] == pytest.approx(mra)


def test_mra_at_exact_boundaries_is_decided_by_float_rounding():
    # relative error 0.2 sits exactly on θ = 0.80, but 1 - 0.8 < 0.2 in floating point: 6 of 10,
    # not 7 (the same in the original thinking-in-space code, which lmms-eval copies)
    assert _scored("object_counting", "8", "10")["MRA:.5:.95:.05"] == pytest.approx(0.6)


def test_mra_threshold_grid_is_ten_points_from_050_to_095():
    import numpy as np

    # the grid lmms-eval builds from (start, end, interval) = (.5, .95, .05)
    grid = np.linspace(.5, .95, int((.95 - .5) / .05 + 2))
    assert np.allclose(grid, [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])


@pytest.mark.parametrize(("reply", "mra"), [
    ("9 meters", 0.9),   # lmms-eval 0.7.3 reads the first number in the reply...
    ("nine", 0.9),       # ...or number word (the published scorer read float(first word))
    ("about 9", 0.9),
    ("unknown", 0.0),    # no number: the worst score
    ("", 0.0),
])
def test_number_extraction_of_lmms_eval_073(reply, mra):
    assert _scored("object_counting", reply, "10")["MRA:.5:.95:.05"] == pytest.approx(mra)


# --- exact match (multiple choice) ------------------------------------------------------------


@pytest.mark.parametrize(("reply", "right"), [
    ("B", 1.0),
    ("b", 1.0),             # case-insensitive
    ("B.", 1.0),            # a trailing dot of the first word is dropped
    ("B. lamp", 1.0),       # only the first word counts
    ("C", 0.0),
    ("(B)", 0.0),           # brackets are not stripped
    ("The answer is B", 0.0),
    ("", 0.0),
])
def test_multiple_choice_exact_match_of_first_word(reply, right):
    assert _scored("route_planning", reply, "B")["accuracy"] == right


# --- aggregation ------------------------------------------------------------------------------


def _full_run() -> list[dict]:
    """Scored docs of every type, with hand-known means per type."""
    docs = [
        _scored("object_counting", "9.2", "10"),           # 0.9
        _scored("object_abs_distance", "7.2", "10"),       # 0.5
        _scored("object_size_estimation", "10", "10"),     # 1.0
        _scored("room_size_estimation", "4", "10"),        # 0.0
        _scored("object_rel_distance", "A", "A"),          # 1.0
        _scored("object_rel_direction_easy", "A", "A"),    # easy 1.0
        _scored("object_rel_direction_medium", "A", "B"),  # medium 0.0
        _scored("object_rel_direction_hard", "A", "A"),    # hard 0.5 (one of two)
        _scored("object_rel_direction_hard", "B", "A"),
        _scored("route_planning", "C", "C"),               # route planning 2/3
        _scored("route_planning", "C", "C"),
        _scored("route_planning", "A", "C"),
        _scored("obj_appearance_order", "D", "A"),         # 0.0
    ]
    return docs


def test_aggregation_averages_types_and_the_three_directions():
    docs = _full_run()
    rel_direction = (1.0 + 0.0 + 0.5) / 3
    route = 2 / 3
    types = [0.9, 0.5, 1.0, 0.0, 1.0, rel_direction, route, 0.0]
    assert vsi_bench.aggregate_object_rel_direction(docs) == pytest.approx(rel_direction, abs=1e-6)
    assert vsi_bench.aggregate_route_planning(docs) == pytest.approx(route, abs=1e-6)
    assert vsi_bench.aggregate_object_counting(docs) == pytest.approx(0.9)
    assert vsi_bench.aggregate_object_abs_distance(docs) == pytest.approx(0.5)
    assert vsi_bench.aggregate_room_size_estimation(docs) == 0.0
    # overall: the unweighted mean of the eight type scores, not of the 13 questions
    assert vsi_bench.aggregate_overall(docs) == pytest.approx(sum(types) / 8, abs=1e-6)
    # the guard only adds a check: the numbers are lmms-eval's own
    assert vsi_bench.aggregate_overall(docs) == _utils().vsibench_aggregate_overall(docs)


def test_route_planning_alone_matches_its_score_in_the_full_run():
    docs = _full_run()
    route_docs = [doc for doc in docs if doc["question_type"] == "route_planning"]
    assert vsi_bench.route_planning_accuracy(route_docs) == round(2 / 3, 6)
    assert vsi_bench.route_planning_accuracy(route_docs) == (
        _utils().vsibench_aggregate_route_planning_accuracy(docs))
    with pytest.raises(KeyError):  # why the task needs its own aggregation
        _utils().vsibench_aggregate_route_planning_accuracy(route_docs)


def test_route_planning_task_keeps_only_that_type_and_its_metric():
    import datasets

    docs = datasets.Dataset.from_list([
        {"question_type": "route_planning", "ground_truth": "A"},
        {"question_type": "object_counting", "ground_truth": "3"},
    ])
    kept = vsi_bench.route_planning_docs(docs)
    assert kept["question_type"] == ["route_planning"]
    result = vsi_bench.route_planning_process_results(dict(kept[0]), ["A"])
    assert list(result) == ["route_planning_accuracy"]
    assert result["route_planning_accuracy"]["accuracy"] == 1.0
    with pytest.raises(ValueError, match="other question types"):
        vsi_bench.route_planning_accuracy([_scored("object_counting", "3", "3")])


def test_missing_relative_direction_types_raise_a_clear_error():
    docs = [_scored("route_planning", "A", "A"), _scored("object_rel_direction_easy", "A", "A")]
    with pytest.raises(ValueError, match="object_rel_direction_medium, object_rel_direction_hard"):
        vsi_bench.aggregate_overall(docs)


def test_scores_are_percent_and_named_after_the_types():
    metrics = {f"{metric},none": 0.5 for metric in vsi_bench.TYPE_METRICS.values()}
    metrics["vsibench_overall,none"] = 0.25
    scores = vsi_bench.scores({"results": {vsi_bench.TASK: metrics}})
    assert scores == {"overall": 25.0, **{name: 50.0 for name in vsi_bench.TYPE_METRICS}}
    route = vsi_bench.route_planning_scores(
        {"results": {vsi_bench.ROUTE_TASK: {"route_planning_accuracy,none": 0.125}}})
    assert route == {"route_planning": 12.5}


# --- the task YAMLs are lmms-eval's task -----------------------------------------------------


def test_tasks_inherit_lmms_evals_prompt_generation_and_scoring(tmp_path):
    configs = _configs(tmp_path)
    full, route = configs[vsi_bench.TASK], configs[vsi_bench.ROUTE_TASK]
    for config in (full, route):
        assert config["dataset_path"] == "parquet" and config["dataset_name"] is None
        assert config["dataset_kwargs"]["data_files"]["test"] == str(
            (tmp_path / "data" / vsi_bench.DATA_FILE).resolve())
        assert config["generation_kwargs"]["max_new_tokens"] == 16
        assert config["generation_kwargs"]["do_sample"] is False
        assert config["doc_to_text"].__name__ == "vsibench_doc_to_text"
        assert config["doc_to_visual"].__name__ == "vsibench_doc_to_visual"
        kwargs = config["lmms_eval_specific_kwargs"]["default"]
        assert kwargs["mca_post_prompt"] == (
            "Answer with the option's letter from the given choices directly.")
    assert full["process_results"].__name__ == "vsibench_process_results"
    assert [m["metric"] for m in full["metric_list"]][0] == "vsibench_overall"
    assert route["process_docs"] is vsi_bench.route_planning_docs
    assert [m["metric"] for m in route["metric_list"]] == ["route_planning_accuracy"]


def test_prompt_is_lmms_evals():
    doc = {"question_type": "route_planning", "question": "Q?", "options": ["A. x", "B. y"]}
    kwargs = {"pre_prompt": "", "mca_post_prompt": "Answer with the option's letter from the "
              "given choices directly.", "na_post_prompt": "Please answer the question using "
              "a single word or phrase."}
    assert _utils().vsibench_doc_to_text(doc, kwargs) == (
        "These are frames of a video.\nQ?\nOptions:\nA. x\nB. y\n"
        "Answer with the option's letter from the given choices directly.")


# --- fixture ----------------------------------------------------------------------------------


def test_fixture_has_the_real_columns_one_question_per_type_and_decodable_videos(tmp_path):
    import decord
    import pandas as pd

    vsi_bench.make_fixture(tmp_path)
    frame = pd.read_parquet(tmp_path / vsi_bench.DATA_FILE)
    assert list(frame.columns) == ["id", "dataset", "scene_name", "question_type", "question",
                                   "ground_truth", "options"]
    types = set(_utils().MCA_QUESTION_TYPES) | set(_utils().NA_QUESTION_TYPES)
    assert sorted(frame["question_type"]) == sorted(types)
    for row in frame.itertuples():
        assert row.dataset in vsi_bench.VIDEO_DATASETS
        if row.question_type in _utils().MCA_QUESTION_TYPES:
            letters = [option.split(".")[0] for option in row.options]
            assert row.ground_truth in letters
        else:
            assert row.options is None and float(row.ground_truth) > 0
        video = tmp_path / row.dataset / f"{row.scene_name}.mp4"
        assert len(decord.VideoReader(str(video))) == 16
