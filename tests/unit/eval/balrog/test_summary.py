"""BALROG's aggregation, checked against hand-computed numbers."""

import json
import math

import pytest

from vldac.eval.balrog.summary import (
    collect_records,
    mean_and_standard_error,
    summarize,
    summarize_environment,
)


def _ep(task, progression, steps=10, tokens=(5, 2)):
    return {"task": task, "progression": progression, "num_steps": steps,
            "input_tokens": tokens[0], "output_tokens": tokens[1]}


def test_standard_error_uses_the_population_deviation():
    # values 0, 1, 1, 0: mean 0.5, population std 0.5, SE 0.5 / 2 = 0.25
    assert mean_and_standard_error([0, 1, 1, 0]) == (0.5, 0.25)
    assert mean_and_standard_error([0.3]) == (0.3, 0.0)  # one episode: no spread
    assert mean_and_standard_error([]) == (0.0, 0.0)


def test_an_environment_pools_its_tasks_episodes():
    records = [_ep("a", 1.0), _ep("a", 0.0), _ep("b", 0.5, steps=20), _ep("b", 0.5, steps=30)]
    env = summarize_environment(records)
    # mean 0.5; deviations .5 .5 0 0 -> var 0.125 -> std 0.35355; SE = std / 2
    assert env.progression == pytest.approx(50.0)
    assert env.standard_error == pytest.approx(100 * math.sqrt(0.125) / 2)
    assert env.episodes == 4 and env.average_steps == pytest.approx(17.5)
    assert (env.input_tokens, env.output_tokens) == (20, 8)
    assert env.tasks["a"].progression == pytest.approx(50.0)
    assert env.tasks["a"].standard_error == pytest.approx(100 * 0.5 / math.sqrt(2))
    assert env.tasks["b"].progression == pytest.approx(50.0)
    assert env.tasks["b"].standard_error == 0.0
    assert env.balrog_json()["tasks"]["a"] == {
        "progression_percentage": pytest.approx(50.0),
        "standard_error": pytest.approx(35.35533906),
        "episodes_played": 2}


def test_overall_is_the_unweighted_mean_of_environments_with_combined_error():
    summary = summarize({
        "x": [_ep("t", 1.0), _ep("t", 0.0)],  # 50 +- 50 / sqrt(2)
        "y": [_ep("u", 0.1)] * 8,  # 10 +- 0, many more episodes: no extra weight
        "z": [_ep("v", 0.0), _ep("v", 0.0), _ep("v", 0.6), _ep("v", 0.6)],  # 30 +- 15
    })
    assert summary.environments["y"].progression == pytest.approx(10.0)
    assert summary.average_progression == pytest.approx((50 + 10 + 30) / 3)
    assert summary.standard_error == pytest.approx(math.sqrt(1250 + 0 + 15**2) / 3)


def test_no_episodes_gives_zero_and_empty_envs_are_left_out():
    assert summarize({}).average_progression == 0.0
    summary = summarize({"x": [_ep("t", 1.0)], "empty": []})
    assert list(summary.environments) == ["x"] and summary.average_progression == 100.0


def test_records_are_collected_from_balrogs_layout(tmp_path):
    folder = tmp_path / "babyai" / "BabyAI-MixedTrainLocal-v0" / "goto" / "BabyAI-MixedTrainLocal-v0"
    folder.mkdir(parents=True)
    (folder / "goto_run_00.json").write_text(json.dumps(_ep("goto", 1.0)))
    (folder / "goto_run_01.json").write_text(json.dumps(_ep("goto", 0.0)))
    (tmp_path / "babyai" / "babyai_summary.json").write_text("{}")
    (tmp_path / "summary.json").write_text("{}")
    records = collect_records(tmp_path)
    assert list(records) == ["babyai"] and len(records["babyai"]) == 2
    assert summarize(records).average_progression == pytest.approx(50.0)
