"""The paper-scale DAG: every expected job in a dry-run, a clear stop where it cannot run,
and the workflow's linters."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml
from workflow_helpers import BIN, ROOT, copy_repo, require_workflow_tools, snakemake


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    require_workflow_tools()
    return copy_repo(tmp_path_factory.mktemp("repo"))


def _expected_jobs() -> dict[str, int]:
    """Job counts the shipped config.yaml implies, stage by stage."""
    pipe = yaml.safe_load((ROOT / "config.yaml").read_text())["pipeline"]
    worlds = pipe["train_on"]
    seeds = {w: pipe["environments"][w].get("seeds", pipe["seeds"]) for w in worlds}
    runs = sum(len(s) for s in seeds.values())
    models = runs + len(worlds) * pipe["evaluation"]["base_model"]
    images = {pipe["environments"][w]["image"] for w in worlds}
    bench = pipe["benchmarks"]
    tuned = sum(len(seeds[k]) for k in bench["models"] if k != "base")
    benchmarked = tuned + ("base" in bench["models"])
    lmms = [name for name, data in bench["lmms"]["data"].items() if data]
    jobs = {"container": len(images) + 1, "check_simulator": len(worlds), "train": runs,
            "export_checkpoint": runs, "version_checkpoint": runs, "evaluate": models,
            "merge_adapter": tuned, "balrog": len(bench["balrog"]["agents"]) * benchmarked,
            "lmms_benchmark": len(lmms) * benchmarked,
            "benchmark_fixture": sum(bench["lmms"]["data"][n] == "fixture" for n in lmms),
            # BALROG's TextWorld games, made once with tw-make (no textworld_games given)
            "textworld_games": int("textworld" in bench["balrog"]["envs"]
                                   and not bench["balrog"]["textworld_games"]),
            "tables": 1, "curves": len(worlds), "viewer": models, "provenance": 1, "all": 1}
    return {rule: n for rule, n in jobs.items() if n}


def test_paper_scale_dry_run_lists_every_expected_job(repo):
    # A dry-run never runs the pre-flight check (onstart), so it plans the paper-scale DAG on
    # any machine, GPU or not.
    done = snakemake(repo, "-n", "--quiet", "rules")
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", done.stdout, re.M))
    assert {k: int(v) for k, v in counts.items() if k != "total"} == _expected_jobs()
    # The paper's worlds and seeds, by name: OneRoom and ALFWorld with 4 seeds, WebShop.
    plan = snakemake(repo, "-n").stdout
    for path in ("checkpoints/oneroom/seed3.dvc", "checkpoints/alfworld/seed3.dvc",
                 "results/eval/webshop/base/metrics.json", "results/report/curves/wallgap.png",
                 "results/containers/miniworld.json", "results/tables/paper_vs_ours.html",
                 "results/benchmarks/balrog/cot/alfworld-seed3.json",
                 "results/benchmarks/balrog/naive/base.json", "results/tables/table2.md"):
        assert path in plan, path


def test_paper_scale_run_stops_before_any_job_where_it_cannot_run(repo, tmp_path):
    # No hub and an empty Hugging Face cache: the 7B weights are unreachable on any machine.
    done = snakemake(repo, "--cores", "1", check=False, HF_HUB_OFFLINE="1",
                     HF_HOME=str(tmp_path / "hf"))
    out = done.stdout + done.stderr
    assert done.returncode != 0
    sentence = re.search(r"This experiment cannot run here: [^\n]*", out)
    assert sentence, out[-3000:]
    assert "Qwen/Qwen2-VL-7B-Instruct" in sentence.group(0)
    assert "snakemake --profile profiles/small" in sentence.group(0)
    assert not (repo / "results").exists() and not (repo / "runs").exists()


def test_lint_is_clean_for_both_configs(repo):
    for args in ([], ["--profile", "profiles/small"]):
        done = snakemake(repo, "--lint", *args)
        assert "Congratulations, your workflow is in a good condition!" in done.stdout + done.stderr


def test_snakefmt_check_passes():
    require_workflow_tools()
    files = ["Snakefile", *map(str, sorted((ROOT / "workflow" / "rules").glob("*.smk")))]
    done = subprocess.run([str(BIN / "snakefmt"), "--check", *files], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_workflow_python_is_ruff_clean():
    ruff = BIN / "ruff"
    if not ruff.exists():
        pytest.skip("needs ruff (the dev extra)")
    done = subprocess.run([str(ruff), "check", "workflow/scripts", "src/vldac/report",
                           "src/vldac/tables", "tests/workflow"], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout



def test_balrog_data_jobs_follow_the_worlds_and_tasks_chosen(repo):
    (repo / "few.yaml").write_text(yaml.safe_dump(
        {"pipeline": {"benchmarks": {"balrog": {"envs": ["babyai", "crafter"]}}}}))
    plan = snakemake(repo, "-n", "--quiet", "rules", "--configfile", "few.yaml").stdout
    assert "textworld_games" not in plan and re.search(r"^balrog\s+\d+$", plan, re.M), plan
    (repo / "tw.yaml").write_text(yaml.safe_dump({"pipeline": {"benchmarks": {"balrog": {
        "envs": ["textworld"], "tasks": ["coin_collector"]}}}}))
    plan = snakemake(repo, "-n", "--quiet", "rules", "--configfile", "tw.yaml").stdout
    assert re.search(r"^textworld_games\s+1$", plan, re.M), plan


def test_train_processes_gives_each_training_job_one_gpu_per_process(repo):
    (repo / "ddp.yaml").write_text(yaml.safe_dump({"pipeline": {"train_processes": 4}}))
    plan = snakemake(repo, "-n", "--configfile", "ddp.yaml", "--forcerun", "train", "--",
                     "results/train/hallway/seed0/done.json").stdout
    job = plan[plan.index("rule train:"):]
    assert re.search(r"resources: .*\bgpu=4\b", job), job


def test_a_baseline_is_one_more_environment_entry(repo):
    (repo / "baseline.yaml").write_text(yaml.safe_dump({"pipeline": {
        "train_on": ["hallway", "oneroom", "fourrooms", "wallgap", "ezpoints", "alfworld",
                     "webshop", "oneroom_rl4vlm"],
        "environments": {"oneroom_rl4vlm": {
            "name": "miniworld/OneRoom-v0", "image": "miniworld",
            "learner": {"env": {"history": 4, "max_episode_steps": 128},
                        "algo": {"name": "rl4vlm", "value_stop_grad": False}}}}}}))
    plan = snakemake(repo, "-n", "--configfile", "baseline.yaml").stdout
    assert "results/train/oneroom_rl4vlm/seed0/done.json" in plan
    assert "results/eval/oneroom_rl4vlm/seed0/metrics.json" in plan
