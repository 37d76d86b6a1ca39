"""Stage 5 adapter: `vldac eval` of one checkpoint (or the base model) in its world, for each
decoding; writes one schema-valid metrics file per (checkpoint, world)."""

import json
from pathlib import Path

import jsonschema
import yaml

from vldac.report.jobs import run_logged
from vldac.report.provenance import write_manifest
from vldac.tables.results import finite

sm = snakemake  # noqa: F821 (injected by Snakemake)
evaluation, who, ckpt = sm.params.evaluation, sm.wildcards.who, Path(sm.input.checkpoint)
decodings = list(evaluation["decodings"])
summaries = {}
Path(sm.log[0]).write_text("")
for decoding, out in zip(decodings, sm.output.episodes, strict=True):
    args = ["eval", "--run", ckpt, "--episodes", evaluation["episodes"], "--decoding", decoding,
            "--seed", evaluation.get("seed", 0), "--out", out,
            "--frames", Path(sm.output.frames) / decoding]
    args += ["--base"] if who == "base" else []
    run_logged(args, sm.log[0], what=f"evaluating {ckpt} ({who}, {decoding})",
               threads=sm.threads, append=True)
    summaries[decoding] = finite(json.loads(Path(out).read_text())["summary"])

run = json.loads((ckpt / "config.json").read_text())
final = json.loads((ckpt / "final_metrics.json").read_text())
checkpoint = (ckpt / "checkpoints" / "latest").read_text().strip()
metrics = {
    "env": sm.wildcards.env, "world": run["env"]["name"], "who": who,
    "model": run["model"]["path"],
    "checkpoint": None if who == "base" else f"{ckpt}/checkpoints/{checkpoint}",
    "train_seed": None if who == "base" else run["seed"],
    "env_steps": None if who == "base" else final.get("env_steps"),
    "heldout_seed": evaluation.get("seed", 0),
    "decodings": summaries,
}
schema = yaml.safe_load((Path(sm.scriptdir).parent / "schemas" / "eval_metrics.schema.yaml")
                        .read_text())
jsonschema.validate(metrics, schema)
Path(sm.output.metrics).write_text(json.dumps(metrics, indent=2) + "\n")
write_manifest(sm.output.provenance, job=sm.rule, wildcards=dict(sm.wildcards),
               container=json.loads(Path(sm.input.container).read_text()),
               seed=evaluation.get("seed", 0),
               extra={"checkpoint": metrics["checkpoint"], "model": metrics["model"]})
