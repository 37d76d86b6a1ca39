"""The general benchmarks' scoring: lmms-eval's own functions, as our task YAMLs wire them,
against hand-computed cases."""

from pathlib import Path

import pytest

pytest.importorskip("lmms_eval")

from vldac.eval.lmms import registry  # noqa: E402
from vldac.eval.lmms.benchmarks import gqa, mmbench, mme, mmstar  # noqa: E402


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
