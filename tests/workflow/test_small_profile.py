"""The CI test: the whole DAG on the small profile, from a fresh copy of the repository to the
HTML report; then what DVC promises (metrics, plots offline, pull without retraining)."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml
from workflow_helpers import copy_repo, dvc, git, require_workflow_tools, snakemake

jsonschema = pytest.importorskip("jsonschema", reason="needs the workflow extra")

pytestmark = pytest.mark.timeout(3600)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A repository copy after one complete run of the small profile; its stdout."""
    require_workflow_tools()
    root = tmp_path_factory.mktemp("small")
    repo = copy_repo(root / "repo")
    done = snakemake(repo, "--profile", "profiles/small")
    return repo, done.stdout + done.stderr


def _dvc_outputs(repo):
    spec = yaml.safe_load((repo / "dvc.yaml").read_text())
    paths = list(spec["metrics"])
    for plot in spec["plots"]:
        (path,) = plot  # each plot is named by the file or folder it draws
        paths.append(path)
    return paths


def test_the_run_ends_with_the_report_path(run):
    repo, out = run
    last = [line for line in out.splitlines() if line.startswith("report: ")]
    assert last, out[-2000:]
    report = repo / "results" / "report.html"
    assert last[-1] == f"report: {report}" and report.stat().st_size > 10_000
    html = report.read_text(errors="replace")
    for item in ("paper_vs_ours.html", "in_domain.html", "colormatch.png", "provenance.html",
                 "seed0.html", "base.html", "check.png"):
        assert item in html, item


def test_every_dvc_yaml_output_is_written_by_the_dag(run):
    repo, _ = run
    for path in _dvc_outputs(repo):
        target = repo / path
        assert target.exists(), path
        if target.is_dir():
            assert list(target.rglob("*.csv")), path


def test_evaluation_metrics_are_schema_valid_for_every_checkpoint_and_base(run):
    repo, _ = run
    schema = yaml.safe_load((repo / "workflow/schemas/eval_metrics.schema.yaml").read_text())
    files = sorted((repo / "results" / "eval").glob("*/*/metrics.json"))
    names = {f"{f.parent.parent.name}/{f.parent.name}" for f in files}
    assert names == {"colormatch/seed0", "colormatch/seed1", "colormatch/base",
                     "numberline/seed0", "numberline/base"}
    for f in files:
        data = json.loads(f.read_text())
        jsonschema.validate(data, schema)
        assert set(data["decodings"]) == {"greedy", "sampled"}
        assert data["decodings"]["greedy"]["episodes"] == 16


def test_tables_put_ours_beside_the_paper_and_say_why_rows_are_empty(run):
    repo, _ = run
    rows = (repo / "results/tables/paper_vs_ours.csv").read_text()
    assert "0.98 ± 0.02" in rows  # Table 1, VL-DAC on OneRoom
    assert "miniworld/OneRoom-v0 is not trained in this experiment" in rows
    in_domain = (repo / "results/tables/in_domain.csv").read_text().splitlines()
    assert len(in_domain) == 1 + 5 * 2  # header + (3 checkpoints + 2 base) x 2 decodings
    page = (repo / "results/tables/paper_vs_ours.html").read_text()
    assert "Where the jobs ran:" in page and ("on the host" in page or "sha256:" in page)


def test_every_benchmark_runs_for_the_base_model_and_the_checkpoint(run):
    repo, _ = run
    lmms = ["erqa", "gqa", "mirb", "mmbench", "mme", "mme_realworld", "mmstar", "mmt",
            "muirbench", "videomme", "visualwebbench", "vsi_bench", "vsi_bench_route_planning"]
    for model in ("base", "numberline-seed0"):
        for agent in ("naive", "cot"):
            summary = json.loads((repo / f"results/benchmarks/balrog/{agent}/{model}"
                                  / "summary.json").read_text())
            assert set(summary["environments"]) == {"babyai", "crafter", "textworld",
                                                    "minihack", "nle"}
            assert "babaisai" in summary["missing"]
            # BALROG's own layout: one record per episode of every task run
            records = list((repo / f"results/benchmarks/balrog/{agent}/{model}").rglob(
                "*_run_*.json"))
            assert len(records) == 17, records  # treasure_hunter is left out here
            result = json.loads((repo / f"results/benchmarks/balrog/{agent}/{model}.json")
                                .read_text())
            assert result["variant"] == agent and "average_progression" in result["scores"]
        for name in lmms:
            metrics = json.loads((repo / f"results/benchmarks/{name}/{model}/metrics.json")
                                 .read_text())
            result = json.loads((repo / f"results/benchmarks/{name}/{model}.json").read_text())
            assert result["scores"] == metrics["scores"] and result["fixture"] is True
            assert metrics["settings"]["max_new_tokens_cap"] == 16
        tuned = json.loads((repo / f"results/benchmarks/gqa/{model}.json").read_text())
        assert (tuned["trained_in"], tuned["seed"]) == (
            (None, None) if model == "base" else ("gym_cards/NumberLine-v0", 0))
    assert not (repo / "results/merged").exists()  # merged weights are temporary
    for n in range(2, 6):
        table = (repo / f"results/tables/table{n}.md").read_text()
        assert table.startswith(f"# Table {n}") and "| paper | ours |" in table
    table2 = (repo / "results/tables/table2.md").read_text()
    assert "not run: babaisai" in table2 and "tiny:qwen2_vl" in table2
    table3 = (repo / "results/tables/table3.csv").read_text()
    assert "synthetic fixture data" in table3
    metrics = json.loads((repo / "metrics/benchmarks.json").read_text())
    assert set(metrics) == {"balrog", *lmms}


def test_viewer_shows_frames_texts_actions_and_rewards(run):
    repo, _ = run
    page = (repo / "results/report/viewer/colormatch/seed0.html").read_text()
    assert page.count("data:image/png;base64,") >= 2
    episodes = json.loads((repo / "results/eval/colormatch/seed0/greedy.json").read_text())
    first = episodes["episodes"][0]
    assert first["frames"] and (repo / "results/eval/colormatch/seed0/frames/greedy"
                                / first["frames"][0]).is_file()
    assert first["texts"][0].replace("&", "&amp;").replace("<", "&lt;") in page or \
        first["texts"][0] in page


def test_every_job_wrote_a_provenance_manifest(run):
    repo, _ = run
    manifests = sorted((repo / "results" / "provenance").rglob("*.json"))
    # containers 2 (gymcards, eval), simulators 2, train 3, export 3, dvc 3, evaluate 5,
    # benchmarks 46 (merge 1, TextWorld games 1, Boxoban levels 1, fixtures 13, BALROG 2x2,
    # lmms-eval 13x2), tables 1, curves 2, viewers 5: every job but the index page itself
    assert len(manifests) == 72
    commit = git(repo, "rev-parse", "HEAD").strip()
    for path in manifests:
        m = json.loads(path.read_text())
        assert m["git"]["commit"] == commit, path
        assert m["packages"]["vldac"] and m["device"] and "image" in m, path
    train = json.loads((repo / "results/provenance/train/colormatch-seed1.json").read_text())
    assert train["seed"] == 1 and train["device"] == "cpu"
    index = (repo / "results/report/provenance.html").read_text()
    assert index.count("<details>") == len(manifests)  # every manifest, none forgotten


def test_dvc_metrics_and_offline_plots(run):
    repo, _ = run
    shown = dvc(repo, "metrics", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    assert "success_rate" in shown.stdout and "colormatch" in shown.stdout
    # Commit the metrics, change one value: `dvc metrics diff` reports it against HEAD.
    git(repo, "add", "metrics", "checkpoints")
    git(repo, "commit", "-qm", "results of the small profile")
    path = repo / "metrics" / "in_domain.json"
    data = json.loads(path.read_text())
    data["colormatch"]["seed0"]["greedy"]["success_rate"] = -1.0
    path.write_text(json.dumps(data))
    diff = dvc(repo, "metrics", "diff", "--json")
    assert diff.returncode == 0 and "colormatch.seed0.greedy.success_rate" in diff.stdout
    git(repo, "checkout", "metrics/in_domain.json")
    plots = dvc(repo, "plots", "show", "--json")
    assert plots.returncode == 0, plots.stderr
    html = dvc(repo, "plots", "show", "-o", "dvc_plots")
    assert html.returncode == 0, html.stderr
    page = (repo / "dvc_plots" / "index.html").read_text()
    assert "cdn.jsdelivr" not in page and "vegaEmbed" in page
    assert "metrics/curves/colormatch/seed0.csv" in page


def test_dvc_pull_restores_checkpoints_and_the_dag_reevaluates_without_training(run):
    repo, _ = run
    status = dvc(repo, "status", "--cloud")
    assert status.returncode == 0 and "in sync" in status.stdout, status.stdout
    trained = {p: p.stat().st_mtime for p in (repo / "results" / "train").rglob("done.json")}
    for folder in (repo / "checkpoints").glob("*/seed*"):
        if folder.is_dir():
            shutil.rmtree(folder)
    shutil.rmtree(repo / ".dvc" / "cache")  # only the remote has them now
    pulled = dvc(repo, "pull")
    assert pulled.returncode == 0, pulled.stderr
    assert (repo / "checkpoints/colormatch/seed0/checkpoints/latest").is_file()
    plan = snakemake(repo, "--profile", "profiles/small", "-n").stdout
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", plan, re.M))
    assert "train" not in jobs and "evaluate" in jobs and "balrog" in jobs, plan[-1500:]
    # Re-evaluate the restored checkpoints (the benchmarks would rerun the same way; left
    # out to keep the suite short).
    evals = sorted(str(p.relative_to(repo)) for p in (repo / "results/eval").glob("*/*/metrics.json"))
    snakemake(repo, "--profile", "profiles/small", *evals)
    assert {p: p.stat().st_mtime for p in trained} == trained
