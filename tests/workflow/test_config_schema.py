"""The experiment file's JSON schema stays in step with the learner's dataclasses, and a bad
key stops the workflow before any job with one sentence naming it."""

from __future__ import annotations

import dataclasses
import typing

import pytest
import yaml
from workflow_helpers import ROOT, copy_repo, require_workflow_tools, snakemake

from vldac.config import Config

jsonschema = pytest.importorskip("jsonschema", reason="needs the workflow extra")

SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
LEARNER = ("model", "env", "rollout", "algo", "train", "log")


def _resolve(node: dict) -> dict:
    ref = node.get("$ref")
    return SCHEMA["$defs"][ref.split("/")[-1]] if ref else node


def _assert_same_keys(cls: type, node: dict, where: str) -> None:
    node = _resolve(node)
    props = node.get("properties", {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert set(props) == set(fields), (
        f"{where}: schema keys {sorted(set(props) - set(fields))} not in {cls.__name__}, "
        f"dataclass fields {sorted(set(fields) - set(props))} not in the schema")
    assert node.get("additionalProperties") is False, f"{where} must reject unknown keys"
    hints = typing.get_type_hints(cls)
    for name in fields:
        if dataclasses.is_dataclass(hints[name]):
            _assert_same_keys(hints[name], props[name], f"{where}.{name}")


def test_schema_learner_sections_match_the_dataclasses():
    top = {k: v for k, v in SCHEMA["properties"].items() if k != "pipeline"}
    _assert_same_keys(Config, {"properties": top, "additionalProperties": False}, "config")
    per_env = SCHEMA["$defs"]["learner"]["properties"]
    assert set(per_env) == set(LEARNER)
    for section in LEARNER:
        assert _resolve(per_env[section]) is _resolve(SCHEMA["properties"][section])


def test_schema_choices_match_the_dataclass_literals():
    def literals(cls, node, where):
        node, hints = _resolve(node), typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            hint, prop = hints[f.name], _resolve(node["properties"][f.name])
            if dataclasses.is_dataclass(hint):
                literals(hint, prop, f"{where}.{f.name}")
            elif typing.get_origin(hint) is typing.Literal:
                assert set(prop["enum"]) == set(typing.get_args(hint)), f"{where}.{f.name}"
    literals(Config, {"properties": SCHEMA["properties"]}, "config")


@pytest.mark.parametrize("overlay", [None, "profiles/small/overlay.yaml"])
def test_shipped_configs_are_valid(overlay):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    if overlay:
        def merge(base, over):
            for k, v in over.items():
                base[k] = merge(base[k], v) if isinstance(v, dict) and isinstance(
                    base.get(k), dict) else v
            return base
        config = merge(config, yaml.safe_load((ROOT / overlay).read_text()))
    jsonschema.validate(config, SCHEMA)


def test_bad_keys_stop_the_workflow_with_one_sentence_each(tmp_path):
    require_workflow_tools()
    repo = copy_repo(tmp_path)
    (repo / "bad.yaml").write_text(yaml.safe_dump({
        "train": {"lrr": 1.0},
        "pipeline": {"seeds": ["zero"], "evaluation": {"decodings": ["beam"]}},
    }))
    done = snakemake(repo, "-n", "--configfile", "bad.yaml", check=False)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert "unknown config key train.lrr; allowed keys here:" in out
    assert "config key pipeline.seeds[0]: 'zero' is not of type 'integer'." in out
    assert "config key pipeline.evaluation.decodings[0]: 'beam' is not one of" in out
    assert not (repo / "results").exists()


def test_unknown_world_names_the_registered_ones(tmp_path):
    require_workflow_tools()
    repo = copy_repo(tmp_path)
    (repo / "bad.yaml").write_text(yaml.safe_dump(
        {"pipeline": {"environments": {"ezpoints": {"name": "gym_cards/EZPoint-v0"}}}}))
    done = snakemake(repo, "-n", "--configfile", "bad.yaml", check=False)
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "pipeline.environments.ezpoints.name must be a registered env (" in out
    assert "gym_cards/EZPoints-v0" in out and "got 'gym_cards/EZPoint-v0'." in out


def test_bad_benchmark_names_stop_the_workflow_naming_the_valid_ones(tmp_path):
    require_workflow_tools()
    repo = copy_repo(tmp_path)
    (repo / "bad.yaml").write_text(yaml.safe_dump({"pipeline": {"benchmarks": {
        "models": ["base", "hallwy"],
        "balrog": {"envs": ["babyai", "babaisai"], "tasks": ["goto"]},
        "lmms": {"data": {"vsibench": "/data/vsi"}},
    }}}))
    done = snakemake(repo, "-n", "--configfile", "bad.yaml", check=False)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert "pipeline.benchmarks.models names 'hallwy', which is neither `base` nor in" in out
    assert "pipeline.benchmarks.balrog.envs names 'babaisai' (" in out  # and why it is missing
    assert "pipeline.benchmarks.balrog.tasks names 'goto', not a BALROG task" in out
    assert "pipeline.benchmarks.lmms.data names 'vsibench'; lmms-eval benchmarks:" in out
    assert "vsi_bench" in out and not (repo / "results").exists()


def test_missing_benchmark_data_stops_the_run_before_any_job(tmp_path):
    require_workflow_tools()
    repo = copy_repo(tmp_path)
    (repo / "data.yaml").write_text(yaml.safe_dump({"pipeline": {"benchmarks": {
        "balrog": {"boxoban_levels": None}, "lmms": {"data": {"gqa": "/nowhere/GQA"}}}}}))
    done = snakemake(repo, "--profile", "profiles/small", "--configfile",
                     "profiles/small/overlay.yaml", "data.yaml", check=False)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert "pipeline.benchmarks.lmms.data.gqa is '/nowhere/GQA', which is not a folder" in out
    if "boxoban-levels" not in out:  # minihack ships no levels; a user may have installed them
        pytest.skip("this machine has boxoban levels in minihack's data folder")
    assert "pipeline.benchmarks.balrog.boxoban_levels" in out
    assert not (repo / "results").exists()
