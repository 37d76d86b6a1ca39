"""VisualWebBench scoring: lmms-eval's own functions, as our task YAMLs wire them, against
hand-computed cases; our two guards; the fixture's schema."""

from pathlib import Path

import pytest

pytest.importorskip("lmms_eval")

from vldac.eval.lmms import registry  # noqa: E402
from vldac.eval.lmms.benchmarks import visualwebbench as vwb  # noqa: E402

LETTERS = [chr(ord("A") + i) for i in range(8)]


def _utils():
    from lmms_eval.tasks.visualwebbench import utils

    return utils


def _rouge(task_type: str, reply: str, gold: str) -> dict:
    return vwb.rouge_process_results({"task_type": task_type, "answer": gold}, [reply])


# --- letter parsing (element_ground, action_prediction, action_ground) ----------------------


@pytest.mark.parametrize(("reply", "letter"), [
    ("B", "B"),
    ("b", "B"),                       # a single character is upper-cased
    ("C.", "C"),                      # "X." at the start
    ("D. the cart page", "D"),
    ("(E) is right", "E"),            # "(X)" anywhere
    ("I pick (A) not (B)", "B"),      # several bracketed letters: the last one
    ("The answer is F.", "F"),        # " X " after stripping punctuation
    ("A and B", "B"),                 # several bare letters: the last one
    ("none of them", "z"),            # no letter: "z", scored wrong
    ("", "a"),                        # empty: "a", scored wrong
    ("I", "I"),                       # a single character outside A-H is kept (and is wrong)
])
def test_parse_multi_choice_response(reply, letter):
    assert _utils().parse_multi_choice_response(reply, LETTERS) == letter


@pytest.mark.parametrize(("reply", "answer", "accuracy"), [
    ("B", 1, 100.0), ("(C)", 2, 100.0), ("C", 1, 0.0), ("nothing", 0, 0.0), ("", 0, 0.0),
    ("H", 7, 100.0),
])
def test_accuracy_compares_the_letter_index_with_the_int_answer(reply, answer, accuracy):
    result = _utils().visualwebbench_process_results_accuracy({"answer": answer}, [reply])
    assert result == {"accuracy": accuracy}


# --- ROUGE (web_caption, heading_ocr, element_ocr) ------------------------------------------


def test_rouge_hand_computed():
    # rouge 1.0.1 counts distinct words: the reference "the cat sat on the mat" has m = 5
    # ("the" once), the reply n = 3, their longest common subsequence 3 words:
    # R = 3/5, P = 3/3, F = 2PR/(P+R) = 0.75. Bigrams: 2 shared of 5 and 2 -> F = 4/7.
    scores = _rouge("web_caption", "the cat sat", "the cat sat on the mat")
    assert scores["rouge_l"] == pytest.approx(75.0, abs=1e-5)
    assert scores["rouge_1"] == pytest.approx(75.0, abs=1e-5)
    assert scores["rouge_2"] == pytest.approx(400 / 7, abs=1e-5)


def test_rouge_l_sees_word_order_and_case():
    reversed_words = _rouge("heading_ocr", "d c b a", "a b c d")
    assert reversed_words["rouge_1"] == pytest.approx(100.0, abs=1e-5)   # same bag of words
    assert reversed_words["rouge_l"] == pytest.approx(25.0, abs=1e-5)    # LCS of one word
    assert _rouge("heading_ocr", "The Cat", "the cat")["rouge_l"] == 0.0  # case-sensitive


def test_element_ocr_one_character_and_empty_replies_score_zero():
    assert _rouge("element_ocr", "a", "a b")["rouge_l"] == 0.0
    assert _rouge("web_caption", "", "a b")["rouge_l"] == 0.0


def test_dots_only_reply_scores_as_empty_instead_of_aborting():
    with pytest.raises(ValueError, match="Hypothesis is empty"):  # lmms-eval's own function
        _utils().visualwebbench_process_results_rouge(
            {"task_type": "web_caption", "answer": "a b"}, ["..."])
    assert _rouge("web_caption", "...", "a b") == {"rouge_1": 0.0, "rouge_2": 0.0,
                                                   "rouge_l": 0.0}
    assert _rouge("web_caption", "a b.", "a b")["rouge_l"] == pytest.approx(100.0, abs=1e-5)


# --- webqa F1 ---------------------------------------------------------------------------------


def test_webqa_f1_is_the_best_rouge_1_over_the_gold_answers():
    # "New York City" vs "New York": P = 2/3, R = 2/2 -> F = 0.8; vs "Boston": 0
    doc = {"answer": ["New York", "Boston"]}
    assert vwb.webqa_process_results(doc, ["New York City"])["f1_score"] == pytest.approx(
        80.0, abs=1e-5)
    assert vwb.webqa_process_results({"answer": ["NYC"]}, ["nyc"])["f1_score"] == 0.0
    assert vwb.webqa_process_results({"answer": ["12", "twelve"]}, ["twelve"])[
        "f1_score"] == pytest.approx(100.0, abs=1e-5)


def test_webqa_skips_unscorable_replies_as_the_official_scorer_does():
    with pytest.raises(ZeroDivisionError):  # lmms-eval's per-sample function alone
        _utils().visualwebbench_process_results_f1({"answer": ["a"]}, ["."])
    assert vwb.webqa_process_results({"answer": ["a"]}, ["."]) == {"f1_score": None}
    assert vwb.webqa_f1_aggregate([100.0, None, 50.0]) == 75.0
    with pytest.raises(ValueError, match="no webqa reply"):
        vwb.webqa_f1_aggregate([None])


def test_scores_pick_each_tasks_headline_and_average_the_seven():
    results = {"results": {}}
    for index, config in enumerate(vwb.CONFIGS):
        results["results"][vwb.task_name(config)] = {
            f"{vwb.HEADLINE_METRIC[config]},none": 10.0 * index, "rouge_1,none": -1.0}
    scores = vwb.scores(results)
    assert [scores[c] for c in vwb.CONFIGS] == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    assert scores["average"] == pytest.approx(30.0)
    assert vwb.HEADLINE_METRIC == {
        "web_caption": "rouge_l", "heading_ocr": "rouge_l", "element_ocr": "rouge_l",
        "webqa": "f1_score", "element_ground": "accuracy", "action_prediction": "accuracy",
        "action_ground": "accuracy"}


# --- the task YAMLs are lmms-eval's tasks ----------------------------------------------------


def test_tasks_inherit_lmms_evals_prompts_generation_and_scoring(tmp_path):
    from lmms_eval.utils import load_yaml_config

    folder = registry.render_tasks(registry.get("visualwebbench"), tmp_path / "data",
                                   tmp_path / "tasks")
    configs = {path.stem: load_yaml_config(str(path)) for path in folder.glob("*.yaml")}
    assert sorted(configs) == sorted(vwb.task_name(c) for c in vwb.CONFIGS)
    for config in vwb.CONFIGS:
        task = configs[vwb.task_name(config)]
        assert task["task"] == vwb.task_name(config)
        assert task["dataset_path"] == "parquet" and task["dataset_name"] is None
        assert task["dataset_kwargs"] == {"data_files": {"test": str(
            (tmp_path / "data").resolve() / config / "test-*.parquet")}}
        assert task["doc_to_text"].__name__ == "visualwebbench_doc_to_text"
        assert task["generation_kwargs"]["max_new_tokens"] == 16
        metrics = [m["metric"] for m in task["metric_list"]]
        if config in vwb.ROUGE_CONFIGS:
            assert task["process_results"] is vwb.rouge_process_results
            assert metrics == ["rouge_1", "rouge_2", "rouge_l"]
        elif config == "webqa":
            assert task["process_results"] is vwb.webqa_process_results
            assert metrics == ["f1_score"]
        else:
            assert task["process_results"].__name__ == "visualwebbench_process_results_accuracy"
            assert metrics == ["accuracy"]


def test_action_prediction_prompt_is_the_benchmarks():
    doc = {"task_type": "action_prediction", "bbox": [0.1, 0.2, 0.3, 0.4],
           "options": ["A. x", "B. y"]}
    prompt = _utils().visualwebbench_doc_to_text(doc, {})
    assert prompt.startswith("You are given a screenshot of a webpage with a red rectangle "
                             "bounding box. The [x1, y1, x2, y2] coordinates of the bounding "
                             "box is [0.1, 0.2, 0.3, 0.4].")
    assert "single uppercase letter" in prompt


# --- fixture ----------------------------------------------------------------------------------


def test_fixture_has_seven_configs_with_the_real_fields(tmp_path: Path):
    import datasets

    vwb.make_fixture(tmp_path)
    common = {"id", "task_type", "website", "image", "image_size", "answer"}
    extra = {"web_caption": set(), "heading_ocr": set(), "webqa": {"question"},
             "element_ocr": {"bbox"}, "element_ground": {"elem_desc", "options", "raw_image"},
             "action_prediction": {"bbox", "elem_desc", "options"},
             "action_ground": {"instruction", "options", "raw_image"}}
    for config in vwb.CONFIGS:
        data = datasets.load_dataset(
            "parquet", data_files={"test": str(tmp_path / config / "test-*.parquet")},
            split="test", cache_dir=str(tmp_path / "cache"))
        assert set(data.column_names) == common | extra[config]
        assert isinstance(data.features["image"], datasets.Image)
        row = data[0]
        assert row["task_type"] == config and row["image"].size == tuple(row["image_size"])
        if config in vwb.ACCURACY_CONFIGS:
            assert isinstance(row["answer"], int) and 0 <= row["answer"] < len(row["options"])
        elif config == "webqa":
            assert isinstance(row["answer"], list) and all(isinstance(a, str)
                                                           for a in row["answer"])
        else:
            assert isinstance(row["answer"], str) and len(row["answer"]) > 1
