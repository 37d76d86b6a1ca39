"""Stage 5b adapter: `vldac lmms` of one model on one benchmark (lmms-eval); then its headline
scores as the one-line result the tables read."""

import json
from dataclasses import asdict
from pathlib import Path

from vldac.report.jobs import run_logged
from vldac.report.provenance import write_manifest
from vldac.tables.results import finite, lmms_result, with_env_steps

sm = snakemake  # noqa: F821 (injected by Snakemake)
s, about, benchmark = sm.params.settings, dict(sm.params.about), sm.wildcards.benchmark
model = sm.input.model[0] if sm.input.model else sm.params.base_model
data = sm.input.data[0] if sm.input.data else sm.params.data
backend = s.get("backend", "auto")
if backend == "auto":  # lmms-eval's own class is the faithful path for Qwen2-VL on a GPU
    import torch

    qwen2_vl = "qwen2-vl" in about["model"].lower() and "qwen2.5" not in about["model"].lower()
    backend = "qwen2_vl" if qwen2_vl and torch.cuda.is_available() else "vldac"
args = ["lmms", "--model", model, "--benchmark", benchmark, "--data", data,
        "--backend", backend, "--batch-size", s.get("batch_size", 1), "--out", sm.output.run]
for key, flag in [("limit", "--limit"), ("max_new_tokens", "--max-new-tokens")]:
    if s.get(key) is not None:
        args += [flag, s[key]]
run_logged(args, sm.log[0], what=f"{benchmark} of {sm.wildcards.model}", threads=sm.threads)

about = with_env_steps(about)
metrics = json.loads((Path(sm.output.run) / "metrics.json").read_text())
result = lmms_result(metrics, about)
result.fixture = result.fixture or sm.params.data == "fixture"
Path(sm.output.result).write_text(json.dumps(finite(asdict(result)), indent=2) + "\n")
write_manifest(sm.output.provenance, job=sm.rule, wildcards=dict(sm.wildcards),
               container=json.loads(Path(sm.input.container).read_text()),
               extra={"model": model, "data": data, **about})
