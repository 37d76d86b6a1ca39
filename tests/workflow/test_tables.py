"""Paper vs ours: which rows our runs fill, the numbers in them, and why a row stays empty."""

from __future__ import annotations

import math

import pytest

from vldac.tables import CURVE_ENDPOINTS, TABLE1, Run, benchmark_rows, dvc_metrics, paper_rows
from vldac.tables.render import write_csv, write_html


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
    assert "baseline is not implemented yet" in _row(rows, "RL4VLM λ=0.35")["note"]
    gemma = _row(rows, "VL-DAC", model="Gemma3-4B")
    assert gemma["ours"] == "—" and "no miniworld/OneRoom-v0 run with Gemma3-4B" in gemma["note"]
    absent = paper_rows(TABLE1, [])
    assert "is not trained in this experiment" in _row(absent, "VL-DAC")["note"]


def test_another_model_fills_the_row_but_is_flagged_not_comparable():
    row = _row(paper_rows(TABLE1, [_run(0, [0.1, 0.4], model="tiny:qwen2_vl")]), "VL-DAC")
    assert row["ours_value"] == pytest.approx(0.4)
    assert "ours uses tiny:qwen2_vl" in row["note"] and "not comparable" in row["note"]


def test_curve_endpoints_use_start_and_final_values():
    rows = paper_rows(CURVE_ENDPOINTS, [_run(0, [0.2, 0.6, 0.9])])
    assert _row(rows, "VL-DAC", quantity="start success rate")["ours_value"] == 0.2
    assert _row(rows, "VL-DAC", quantity="final success rate")["ours_value"] == 0.9


def test_benchmarks_metrics_and_rendering(tmp_path):
    rows = benchmark_rows(["balrog"])
    assert rows[0]["table"] == "Table 2" and "not implemented yet" in rows[0]["note"]
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
