"""The general benchmarks' scoring: lmms-eval's own functions, as our task YAMLs wire them,
against hand-computed cases."""

from pathlib import Path

import pytest

pytest.importorskip("lmms_eval")

from vldac.eval.lmms import registry  # noqa: E402
from vldac.eval.lmms.benchmarks import erqa, gqa, mmbench, mme, mmstar  # noqa: E402


def _task_config(benchmark: str, tmp_path: Path) -> dict:
    """The rendered task YAML of ``benchmark`` as lmms-eval loads it (includes resolved)."""
    from lmms_eval.utils import load_yaml_config

    spec = registry.get(benchmark)
    folder = registry.render_tasks(spec, tmp_path / "data", tmp_path / "tasks")
    (path,) = folder.glob("*.yaml")
    return load_yaml_config(str(path))


# --- GQA --------------------------------------------------------------------------------------


def test_gqa_task_is_lmms_evals_with_local_data(tmp_path):
    config = _task_config("gqa", tmp_path)
    assert config["task"] == gqa.TASK
    assert config["dataset_kwargs"]["data_files"]["testdev"].endswith(gqa.INSTRUCTIONS)
    assert config["lmms_eval_specific_kwargs"]["default"]["post_prompt"] == (
        "\nAnswer the question using a single word or phrase.")
    (metric,) = config["metric_list"]
    assert metric["metric"] == "exact_match"
    assert metric["ignore_case"] and metric["ignore_punctuation"]
    assert config["process_docs"] is gqa.process_docs


def test_gqa_exact_match_ignores_case_and_punctuation_only():
    from lmms_eval.api.metrics import exact_match_hf_evaluate

    predictions = ["Red.", "YES", "left!", "a cat", "red ", "blue"]
    references = ["red", "yes", "left", "a  cat", "red", "green"]
    per_item = [exact_match_hf_evaluate([p], [r], ignore_case=True, ignore_punctuation=True)
                ["exact_match"] for p, r in zip(predictions, references, strict=True)]
    # whitespace is not normalised: "a cat" != "a  cat" and "red " != "red"
    assert per_item == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_gqa_process_docs_joins_local_images(tmp_path, monkeypatch):
    import datasets

    gqa.make_fixture(tmp_path)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    (tmp_path / "hf_home").mkdir()
    (tmp_path / "hf_home" / gqa.HF_HOME_LINK).symlink_to(tmp_path, target_is_directory=True)
    questions = datasets.load_dataset(
        "parquet", data_files=str(tmp_path / gqa.INSTRUCTIONS), split="train",
        cache_dir=str(tmp_path / "cache"))
    joined = gqa.process_docs(questions)
    first = joined[0]
    assert first["imageId"] == "n100001"
    assert first["image"].getpixel((32, 24)) == (220, 30, 30)  # the red square
    assert len(joined) == len(questions)


def test_gqa_process_docs_without_images_says_what_is_missing(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setenv("HF_HOME", str(tmp_path))
    docs = datasets.Dataset.from_dict({"imageId": ["n1"], "question": ["q"]})
    with pytest.raises(FileNotFoundError, match="testdev_balanced_images"):
        gqa.process_docs(docs)


def test_gqa_scores_in_percent():
    assert gqa.scores({"results": {gqa.TASK: {"exact_match,none": 0.6202}}}) == {
        "accuracy": pytest.approx(62.02)}


# --- MME --------------------------------------------------------------------------------------


def test_mme_reply_parsing():
    from lmms_eval.tasks.mme.utils import parse_pred_ans

    cases = {"Yes": "yes", "no.": "no", "Y": "yes", "n": "no", "Yes, it is.": "yes",
             "No, it is not.": "no", "x": "other", "I think so": "other", "Not sure": "no"}
    assert {reply: parse_pred_ans(reply) for reply in cases} == cases


def _mme_docs(category: str, image: str) -> list[dict]:
    return [{"question_id": image, "category": category, "answer": "Yes"},
            {"question_id": image, "category": category, "answer": "No"}]


def test_mme_acc_plus_and_perception_sum():
    from lmms_eval.tasks.mme.utils import mme_aggregate_results, mme_process_results

    # color: image a both right (acc 100 + acc+ 100), image b one right (50 + 0) -> 125
    # count: image c both wrong (0) -> 0;  OCR: image d both right -> 200
    # code_reasoning (cognition): one right of two -> 50
    plan = [("color", "a", ["Yes", "No"]), ("color", "b", ["Yes", "Yes"]),
            ("count", "c", ["No", "Yes"]), ("OCR", "d", ["yes.", "no"]),
            ("code_reasoning", "e", ["No", "No"])]
    scored = []
    for category, image, replies in plan:
        for doc, reply in zip(_mme_docs(category, image), replies, strict=True):
            scored.append(mme_process_results(doc, [reply]))
    perception = [s["mme_perception_score"] for s in scored if "mme_perception_score" in s]
    cognition = [s["mme_cognition_score"] for s in scored if "mme_cognition_score" in s]
    assert mme_aggregate_results(perception) == pytest.approx(125 + 0 + 200)
    assert mme_aggregate_results(cognition) == pytest.approx(50)


def test_mme_fixture_pairs_every_image_and_covers_all_categories(tmp_path):
    import pandas as pd

    mme.make_fixture(tmp_path)
    frame = pd.read_parquet(tmp_path / "data" / "test-00000-of-00001.parquet")
    assert sorted(frame["category"].unique()) == sorted(mme.PERCEPTION + mme.COGNITION)
    assert (frame.groupby("question_id")["answer"].apply(sorted) == pd.Series(
        [["No", "Yes"]] * frame["question_id"].nunique(),
        index=sorted(frame["question_id"].unique()))).all()
    assert frame["question"].str.endswith(" Please answer yes or no.").all()


# --- MMBench ----------------------------------------------------------------------------------


def test_mmbench_letter_extraction():
    from lmms_eval.tasks.mmbench.mmbench_evals import MMBench_Evaluator

    evaluator = MMBench_Evaluator()
    choices = {"A": "red", "B": "green", "C": "blue", "D": "yellow"}
    assert evaluator.can_infer("B", dict(choices)) == "B"
    assert evaluator.can_infer("(C) blue", dict(choices)) == "C"
    assert evaluator.can_infer("The answer is D.", dict(choices)) == "D"
    assert evaluator.can_infer("It is green", dict(choices)) == "B"  # by option text
    assert evaluator.can_infer("no idea", dict(choices)) is False


def test_circular_copies_rotate_the_options():
    copies = mmbench.circular_rows(7, ["cat", "dog", "cow"], right=1)
    assert [index for index, _, _ in copies] == [7, 1_000_007, 2_000_007]
    for _, options, answer in copies:
        assert options[mmbench.LETTERS.index(answer)] == "dog"
        assert options[3] is None
    assert len({tuple(options) for _, options, _ in copies}) == 3


def _mmbench_doc(index, options, answer):
    doc = {"index": index, "question": "Q?", "hint": None, "answer": answer, "source": "s",
           "split": "dev", "category": "c", "L2-category": "l2"}
    doc.update(zip(mmbench.LETTERS, options, strict=True))
    return doc


def test_mmbench_circular_accuracy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # lmms-eval must not write into the current folder
    # question 0: all four copies right -> 1; question 1: one copy of two wrong -> 0;
    # question 2: a free-text reply naming the option's text counts as that option -> 1
    plan = []
    for index, options, answer in mmbench.circular_rows(0, ["a", "b", "c", "d"], 2):
        plan.append((_mmbench_doc(index, options, answer), answer))
    for shift, (index, options, answer) in enumerate(mmbench.circular_rows(1, ["x", "y"], 0)):
        plan.append((_mmbench_doc(index, options, answer), answer if shift == 0 else "A"))
    ((index, options, answer),) = mmbench.circular_rows(2, ["sun"], 0)
    plan.append((_mmbench_doc(index, options, answer), "It is the sun"))
    results = [mmbench.process_results(doc, [reply])["gpt_eval_score"] for doc, reply in plan]
    assert mmbench.aggregate_dev_static(results) == pytest.approx(100 * 2 / 3)
    assert list(tmp_path.iterdir()) == []


def test_mmbench_static_extractor_reads_letters_the_heuristic_misses():
    from lmms_eval.tasks._task_utils.mcq_extract import extract_mcq_answer

    # "A" as a word is taken for a quantifier by the heuristic; the offline fallback reads it
    assert extract_mcq_answer("A. red", choices=["A", "B", "C", "D"]) == "A"
    assert extract_mcq_answer("I choose (B) because", choices=["A", "B", "C", "D"]) == "B"


# --- MMStar -----------------------------------------------------------------------------------


def test_mmstar_average_is_the_mean_of_l2_means():
    from lmms_eval.tasks.mmstar.utils import mmstar_aggregate_results, mmstar_process_results

    docs = [("A", "B", "math", "geometry"), ("A", "A", "math", "geometry"),
            ("C", "The answer is C", "math", "statistical reasoning")]
    scored = [mmstar_process_results({"answer": gt, "category": c, "l2_category": l2,
                                      "index": i}, [reply])
              for i, (gt, reply, c, l2) in enumerate(docs)]
    # geometry 1/2, statistical reasoning 1/1 -> 0.75 (the item mean would be 2/3)
    assert mmstar_aggregate_results([s["average"] for s in scored]) == pytest.approx(0.75)
    assert mmstar.scores({"results": {mmstar.TASK: {"average,none": 0.75, "math,none": 0.75}}}) \
        == {"average": 75.0, "math": 75.0}


def test_mmstar_fixture_has_one_question_per_l2_category(tmp_path):
    import pandas as pd

    mmstar.make_fixture(tmp_path)
    frame = pd.read_parquet(tmp_path / "mmstar.parquet")
    expected = sorted(l2 for l2s in mmstar.L2_CATEGORIES.values() for l2 in l2s)
    assert sorted(frame["l2_category"]) == expected
    assert set(frame["answer"]) <= set("ABCD")


# --- ERQA -------------------------------------------------------------------------------------


def test_erqa_naive_and_cot_scoring():
    from lmms_eval.tasks.erqa.utils import erqa_aggregate_results, erqa_process_results

    doc = {"question_id": "q", "question": "Which? Choices: A. x B. y", "answer": "B",
           "question_type": "Spatial Reasoning"}
    replies = ["B", "A and C look wrong, so the answer is B.\n\nAnswer: B", "Answer: A", "x",
               "(A) is wrong.\nAnswer: B"]
    naive = [erqa_process_results(doc, [reply])["erqa_acc"] for reply in replies]
    # lmms-eval's extractor ranks the first word highest: the second reply reads as A
    assert [s["is_correct"] for s in naive] == [True, False, False, False, True]
    assert erqa_aggregate_results(naive) == pytest.approx(0.4)
    cot = [erqa.cot_process_results(doc, [reply])["erqa_acc"] for reply in replies]
    assert [s["is_correct"] for s in cot] == [True, True, False, False, True]
    assert [s["pred"] for s in cot] == replies
    assert erqa.cot_doc_to_text(doc) == doc["question"] + erqa.COT_INSTRUCTION
    messages = erqa.cot_doc_to_messages({**doc, "images": []})
    assert messages[0]["content"][-1]["text"].endswith(erqa.COT_INSTRUCTION)


def test_erqa_cot_task_does_not_stop_at_blank_lines(tmp_path):
    from lmms_eval.utils import load_yaml_config

    spec = registry.get("erqa")
    folder = registry.render_tasks(spec, tmp_path / "data", tmp_path / "tasks")
    naive = load_yaml_config(str(folder / "vldac_erqa.yaml"))
    cot = load_yaml_config(str(folder / "vldac_erqa_cot.yaml"))
    assert "generation_kwargs" not in naive or "until" not in naive["generation_kwargs"]
    assert cot["generation_kwargs"] == {"max_new_tokens": 1024, "until": []}
    assert naive["doc_to_text"].__code__.co_filename.endswith("erqa/utils.py")
    assert cot["process_results"] is erqa.cot_process_results


# --- MuirBench --------------------------------------------------------------------------------


def test_muirbench_filter_and_accuracy():
    from lmms_eval.tasks.muirbench.utils import (
        MultiChoiceRegexFilter,
        muir_aggregation,
        muir_process_results,
    )

    replies = ["B. the second", "b", "The answer is B", "A"]
    filtered = MultiChoiceRegexFilter(regex_pattern=r"([A-Z])\.").apply(
        [[reply] for reply in replies], [{}] * len(replies))
    assert filtered == ["B", "b", "The answer is B", "A"]
    doc = {"task": "Counting", "idx": "1", "image_relation": "r", "answer": "B",
           "image_type": "t"}
    scored = [muir_process_results(doc, [reply])["muirbench_score_overall"]
              for reply in filtered]
    assert muir_aggregation(scored) == pytest.approx(0.5)  # "B" and "b" count, the rest not


# --- MIRB -------------------------------------------------------------------------------------


def test_mirb_option_and_open_answers():
    from lmms_eval.tasks.mirb.utils import mirb_aggregation, mirb_process_results

    from vldac.eval.lmms.benchmarks import mirb

    cases = [("codeu", "B", "B. second"), ("food", "A", "C"), ("count", "2", "There are 2."),
             ("3d_scene", "1", "3"), ("sightseeing", "circle", "A blue circle")]
    scored = [mirb_process_results({"question_id": str(i), "subset": subset, "answers": gold},
                                   [reply])["mirb_score"]
              for i, (subset, gold, reply) in enumerate(cases)]
    # right: codeu, count, sightseeing; the other subsets need a result each for the dimensions
    rest = [{"question_id": s, "subset": s, "pred_answer": "x", "answers": "A"}
            for s in mirb._SUBSETS if s not in {c[0] for c in cases}]
    assert mirb_aggregation(scored + rest) == pytest.approx(3 / (len(cases) + len(rest)))
    assert mirb.aggregate(scored + rest) == mirb_aggregation(scored + rest)
    with pytest.raises(ValueError, match="needs all 11 subsets.*arxiv"):
        mirb.aggregate(scored)


# --- MME-RealWorld ----------------------------------------------------------------------------


def test_mme_realworld_letter_extraction_and_accuracy():
    from lmms_eval.tasks.mme_realworld.utils import (
        extract_characters_regex,
        mme_realworld_aggregate_results,
        mme_realworld_process_results,
    )

    assert extract_characters_regex("The best answer is (C) blue") == "C"
    assert extract_characters_regex("B") == "B"
    assert extract_characters_regex("no letter here at all in this very long reply of "
                                    "words that goes on") == ""
    doc = {"index": 0, "category": "Perception/Remote Sensing", "l2-category": "color",
           "answer": "C"}
    scored = [mme_realworld_process_results({**doc, "index": i}, [reply])["mme_realworld_score"]
              for i, reply in enumerate(["C", "(C)", "D", "E"])]
    assert mme_realworld_aggregate_results(scored) == pytest.approx(0.5)


# --- MMT --------------------------------------------------------------------------------------


def test_mmt_option_parsing_and_accuracy():
    from lmms_eval.tasks.mmt.utils import mmt_aggregate_results

    from vldac.eval.lmms.benchmarks import mmt

    doc = {"A": "red", "B": "green", "C": "blue", "D": None, "answer": "B",
           "l2-category": "color", "split": "VAL"}
    scored = [mmt.process_results(doc, [reply]) for reply in ["B", "(B) green", "C.", "A B"]]
    assert all(set(s) == {"accuracy"} for s in scored)
    # "A B": two candidates, the last one wins -> B
    assert [s["accuracy"]["overall"] for s in scored] == [1.0, 1.0, 0.0, 1.0]
    assert mmt_aggregate_results([s["accuracy"] for s in scored]) == pytest.approx(75.0)


# --- Video-MME --------------------------------------------------------------------------------


def _needs_cv2():
    # lmms-eval's videomme utils import cv2 at the top (for subtitles, which we do not use)
    pytest.importorskip("cv2", reason="Video-MME needs opencv-python-headless (lmms extra).")


def _videomme_sample(task_type, pred, answer="A"):
    from lmms_eval.tasks.videomme.utils import videomme_process_results

    doc = {"question_id": "q", "duration": "short", "domain": "Knowledge",
           "sub_category": "Geography", "task_type": task_type, "answer": answer,
           "videoID": "v"}
    return videomme_process_results(doc, [pred])


def test_videomme_overall_and_spatial_scores():
    _needs_cv2()
    from lmms_eval.tasks.videomme.utils import videomme_aggregate_results

    from vldac.eval.lmms.benchmarks import videomme

    samples = [_videomme_sample("Spatial Perception", "A"),
               _videomme_sample("Spatial Reasoning", "The answer is (B)."),
               _videomme_sample("Counting Problem", "A."),
               _videomme_sample("OCR Problems", "A")]
    overall = videomme_aggregate_results([s[videomme.METRIC] for s in samples])
    assert overall == pytest.approx(75.0)
    results = {"results": {videomme.TASK: {f"{videomme.METRIC},none": overall}},
               "samples": {videomme.TASK: samples}}
    assert videomme.scores(results) == {"overall": pytest.approx(75.0),
                                        "spatial": pytest.approx(50.0)}
    no_spatial = {**results, "samples": {videomme.TASK: samples[2:]}}
    assert set(videomme.scores(no_spatial)) == {"overall"}


def test_videomme_missing_video_fails_before_the_run(tmp_path, monkeypatch):
    import datasets

    from vldac.eval.lmms.benchmarks import videomme

    monkeypatch.setenv("HF_HOME", str(tmp_path))
    (tmp_path / videomme.HF_HOME_LINK / "data").mkdir(parents=True)
    (tmp_path / videomme.HF_HOME_LINK / "data" / "here.mp4").write_bytes(b"")
    docs = datasets.Dataset.from_dict({"videoID": ["here", "gone"]})
    with pytest.raises(FileNotFoundError, match="gone.mp4"):
        videomme.check_videos(docs)
    assert videomme.check_videos(docs.select([0])) is not None


# --- every task is lmms-eval's, but for the overrides each module documents -------------------

DATA_KEYS = {"task", "dataset_path", "dataset_name", "dataset_kwargs", "test_split"}
# our task YAML -> (lmms-eval's task YAML, the keys ours changes besides the data source)
TASKS = {
    "gqa/vldac_gqa.yaml": ("gqa/gqa.yaml", {"process_docs"}),
    "mme/vldac_mme.yaml": ("mme/mme.yaml", set()),
    "mmbench/vldac_mmbench_en_dev.yaml": ("mmbench/mmbench_en_dev_static.yaml",
                                          {"process_results", "metric_list"}),
    "mmstar/vldac_mmstar.yaml": ("mmstar/mmstar.yaml", set()),
    "erqa/vldac_erqa.yaml": ("erqa/erqa.yaml", set()),
    "erqa/vldac_erqa_cot.yaml": ("erqa/erqa.yaml", {"doc_to_text", "doc_to_messages",
                                                    "process_results", "generation_kwargs"}),
    "muirbench/vldac_muirbench.yaml": ("muirbench/muirbench.yaml", {"filter_list"}),
    "mirb/vldac_mirb.yaml": ("mirb/mirb.yaml", {"metric_list"}),
    "mme_realworld/vldac_mme_realworld.yaml": ("mme_realworld/mme_realworld.yaml", set()),
    "mmt/vldac_mmt_val.yaml": ("mmt/mmt_val.yaml", {"process_results"}),
    "mmt/vldac_mmt_mi_val.yaml": ("mmt/mmt_mi_val.yaml", {"process_results"}),
    "videomme/vldac_videomme.yaml": ("videomme/videomme.yaml", {"process_docs"}),
}


def _comparable(value):
    """Config values with functions as (file, name): lmms-eval loads a function anew per YAML."""
    if callable(value):
        code = getattr(value, "__code__", None)
        return (code.co_filename if code else repr(value), getattr(value, "__name__", ""))
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


@pytest.mark.parametrize("ours", sorted(TASKS))
def test_task_differs_from_lmms_evals_only_where_documented(ours, tmp_path):
    from lmms_eval.utils import load_yaml_config

    if ours.startswith("videomme/"):
        _needs_cv2()
    theirs, changed = TASKS[ours]
    folder, name = ours.split("/")
    spec = next(b for b in (registry.get(n) for n in registry.names())
                if b.task_path.name == folder)
    rendered = registry.render_tasks(spec, tmp_path / "data", tmp_path / "tasks") / name
    ours_config = _comparable(load_yaml_config(str(rendered)))
    theirs_config = _comparable(load_yaml_config(str(registry.lmms_eval_tasks_dir() / theirs)))
    keys = set(ours_config) | set(theirs_config)
    differing = {k for k in keys if ours_config.get(k) != theirs_config.get(k)}
    assert differing - DATA_KEYS == changed
    assert ours_config["dataset_path"] == "parquet"
