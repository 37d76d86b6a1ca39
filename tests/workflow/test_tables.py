"""Paper vs ours: which rows our runs fill, the numbers in them, and why a row stays empty."""

from __future__ import annotations

import math

import pytest

from vldac.tables import (
    CURVE_ENDPOINTS,
    TABLE1,
    BenchmarkResult,
    Run,
    algorithm_label,
    benchmark_metrics,
    benchmark_rows,
    dvc_metrics,
    paper_rows,
)
from vldac.tables.paper import TABLE2, TABLE3, TABLE5
from vldac.tables.render import write_csv, write_html, write_markdown
from vldac.tables.results import balrog_result


def _run(seed, curve, model="Qwen/Qwen2-VL-7B-Instruct", world="miniworld/OneRoom-v0"):
    history = [{"update": i + 1, "env_steps": 256 * (i + 1), "rollout/success_rate": s,
                "rollout/episode_return": s * 2} for i, s in enumerate(curve)]
    return Run("oneroom", world, seed, model, 256 * len(curve), history)


def _row(rows, algorithm, model="Qwen2-VL-7B-Instruct", quantity="peak success rate",
         world="miniworld/OneRoom-v0"):
    (row,) = [r for r in rows if r["algorithm"] == algorithm and r["model (paper)"] == model
              and r["quantity"] == quantity and r["world"] == world]
    return row


def test_table1_vldac_row_is_mean_and_std_of_the_seeds_peaks():
    runs = [_run(0, [0.2, 0.9, 0.8]), _run(1, [0.3, 0.7, 1.0])]
    row = _row(paper_rows(TABLE1, runs), "VL-DAC")
    assert row["ours_value"] == pytest.approx(0.95)
    assert row["ours_std"] == pytest.approx(math.sqrt(0.005))
    assert row["difference"] == "-0.03" and row["ours: seeds"] == "0, 1"
    assert row["ours: env steps"] == "768" and row["note"] == ""


def test_rows_we_cannot_produce_say_why():
    rows = paper_rows(TABLE1, [_run(0, [0.5])])
    assert "no RL4VLM λ=0.35 run in miniworld/OneRoom-v0" in _row(rows, "RL4VLM λ=0.35")["note"]
    gemma = _row(rows, "VL-DAC", model="Gemma3-4B")
    assert gemma["ours"] == "—" and "no miniworld/OneRoom-v0 run with Gemma3-4B" in gemma["note"]
    absent = paper_rows(TABLE1, [])
    assert "is not trained in this experiment" in _row(absent, "VL-DAC")["note"]


def test_baseline_runs_fill_their_own_rows_only():
    vldac, rl4vlm = _run(0, [0.2, 0.9]), _run(1, [0.1, 0.6])
    rl4vlm.algorithm = algorithm_label({"name": "rl4vlm", "thought_weight": 0.35})
    rows = paper_rows(TABLE1 + CURVE_ENDPOINTS, [vldac, rl4vlm])
    assert _row(rows, "VL-DAC")["ours_value"] == pytest.approx(0.9)
    assert _row(rows, "RL4VLM λ=0.35")["ours_value"] == pytest.approx(0.6)
    assert _row(rows, "RL4VLM λ=0.5")["ours"] == "—"
    average = _row(rows, "RL4VLM (average)", quantity="final success rate")
    assert average["ours_value"] == pytest.approx(0.6)
    loop = _row(rows, "LOOP", quantity="final success rate")
    assert loop["paper"] == "~0.21" and "no LOOP run" in loop["note"]
    assert algorithm_label({}) == "VL-DAC" and algorithm_label({"name": "loop"}) == "LOOP"


def test_another_model_fills_the_row_but_is_flagged_not_comparable():
    row = _row(paper_rows(TABLE1, [_run(0, [0.1, 0.4], model="tiny:qwen2_vl")]), "VL-DAC")
    assert row["ours_value"] == pytest.approx(0.4)
    assert "ours uses tiny:qwen2_vl" in row["note"] and "not comparable" in row["note"]


def test_curve_endpoints_use_start_and_final_values():
    rows = paper_rows(CURVE_ENDPOINTS, [_run(0, [0.2, 0.6, 0.9])])
    assert _row(rows, "VL-DAC", quantity="start success rate")["ours_value"] == 0.2
    assert _row(rows, "VL-DAC", quantity="final success rate")["ours_value"] == 0.9


QWEN = "Qwen/Qwen2-VL-7B-Instruct"
ALF = "alfworld/AlfredTWEnv-v0"


def _bench_row(rows, row, model):
    (found,) = [r for r in rows if r["row"] == row and r["model (paper)"] == model]
    return found


def test_balrog_rows_show_progression_with_balrog_standard_error():
    summary = {"agent": "cot", "average_progression": 7.0, "standard_error": 1.5,
               "environments": {"babyai": {"progression": 10.0, "standard_error": 2.0},
                                "crafter": {"progression": 4.0, "standard_error": 0.5}}}
    tuned = balrog_result(summary, {"trained_in": ALF, "seed": 0, "model": QWEN,
                                    "env_steps": 51200})
    assert tuned.scores == {"average_progression": 7.0, "babyai": 10.0, "crafter": 4.0}
    rows = benchmark_rows(TABLE2, [tuned], {"balrog:naive": "BALROG's naive agent is not run"},
                          {"balrog": "ours averages babyai, crafter"})
    row = _bench_row(rows, "BALROG CoT", f"tuned in {ALF}")
    assert row["paper"] == "6.02 ± 1.19%" and row["ours"] == "7 ± 1.5 (SE)"
    assert row["difference"] == "+0.98" and row["ours: env steps"] == "51,200"
    assert row["note"] == "ours averages babyai, crafter"
    assert _bench_row(rows, "BALROG naive", "base")["note"] == "BALROG's naive agent is not run"
    base_cot = _bench_row(rows, "BALROG CoT", "base")
    assert base_cot["ours"] == "—" and base_cot["note"] == "no run of this benchmark in this experiment"


def test_benchmark_rows_average_seeds_and_flag_what_is_not_comparable():
    def vsi(seed, route, model=QWEN, fixture=False):
        return BenchmarkResult("vsi_bench", None, ALF, seed, model, 1000,
                               {"route_planning": route}, fixture=fixture)

    rows = benchmark_rows(TABLE3, [vsi(0, 30.0), vsi(1, 34.0)], {})
    row = _bench_row(rows, "VSI route plan", f"tuned in {ALF}")
    assert row["ours_value"] == pytest.approx(32.0) and row["ours_std"] == pytest.approx(
        math.sqrt(8.0))
    assert row["ours: seeds"] == "0, 1" and row["note"] == ""
    # A score the runs did not report, and a model column not benchmarked.
    rel = _bench_row(rows, "VSI relative direction", f"tuned in {ALF}")
    assert "reported no 'object_rel_direction'" in rel["note"]
    oneroom = _bench_row(rows, "VSI route plan", "tuned in miniworld/OneRoom-v0")
    assert "no checkpoint tuned in miniworld/OneRoom-v0" in oneroom["note"]
    tiny = benchmark_rows(TABLE3, [vsi(0, 50.0, "tiny:qwen2_vl", fixture=True)], {})
    note = _bench_row(tiny, "VSI route plan", f"tuned in {ALF}")["note"]
    assert "synthetic fixture data" in note and "ours uses tiny:qwen2_vl" in note


def test_table5_has_every_visualwebbench_task_for_each_variant_and_model():
    assert len(TABLE5) == 7 * 2 * 3
    rows = benchmark_rows(TABLE5, [], {"visualwebbench:cot": "no CoT prompt"})
    assert {r["note"] for r in rows if r["row"].endswith(" cot")} == {"no CoT prompt"}


def test_benchmarks_metrics_and_rendering(tmp_path):
    result = BenchmarkResult("gqa", None, None, None, QWEN, None, {"accuracy": 61.0})
    assert benchmark_metrics([result]) == {"gqa": {"run": {"base": {"accuracy": 61.0}}}}
    rows = benchmark_rows(TABLE2, [], {})
    assert rows[0]["table"].startswith("Table 2")
    evals = [{"env": "oneroom", "who": "seed0", "decodings": {"greedy": {
        "success_rate": 0.5, "return_mean": float("nan"), "parse_failure_rate": 0.0,
        "episode_length": 3.0}}}]
    in_domain, train = dvc_metrics([_run(0, [0.5])], evals)
    assert in_domain["oneroom"]["seed0"]["greedy"]["return_mean"] is None  # valid JSON
    assert train["oneroom"]["seed0"]["peak_success_rate"] == 0.5
    write_csv(rows, tmp_path / "t.csv")
    write_html([("B", "note <b>", rows)], "T", tmp_path / "t.html")
    assert "note &lt;b&gt;" in (tmp_path / "t.html").read_text()
    assert "ours_value" in (tmp_path / "t.csv").read_text().splitlines()[0]
    write_markdown("T", "n", rows, tmp_path / "t.md")
    lines = (tmp_path / "t.md").read_text().splitlines()
    assert lines[0] == "# T" and lines[4].startswith("| table |") and len(lines) == 4 + 2 + len(rows)


def test_one_csv_holds_rows_of_different_tables(tmp_path):
    rows = paper_rows(TABLE1, []) + benchmark_rows(TABLE2, [], {})
    write_csv(rows, tmp_path / "all.csv")
    header, *lines = (tmp_path / "all.csv").read_text().splitlines()
    assert "quantity" in header and "row" in header and len(lines) == len(rows)
