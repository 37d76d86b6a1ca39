"""Stage 5b adapter: `vldac balrog` of one model with one agent type; then the run's summary
as the one-line result the tables read."""

import json
from dataclasses import asdict
from pathlib import Path

from vldac.report.jobs import run_logged
from vldac.report.provenance import write_manifest
from vldac.tables.results import balrog_result, finite, with_env_steps

sm = snakemake  # noqa: F821 (injected by Snakemake)
s, about = sm.params.settings, dict(sm.params.about)
model = sm.input.model[0] if sm.input.model else sm.params.base_model
args = ["balrog", "--model", model, "--agent", sm.wildcards.variant,
        "--mode", s.get("mode", "image"), "--envs", *s["envs"],
        "--seed", s.get("seed", 0), "--temperature", s["temperature"],
        "--max-new-tokens", s["max_new_tokens"], "--out", sm.output.run]
if s.get("tasks"):
    args += ["--tasks", *sm.params.tasks]
for key, flag in [("episodes", "--episodes"), ("max_steps", "--max-steps")]:
    if s.get(key) is not None:
        args += [flag, s[key]]
generated = sm.params.data  # what the DAG made: TextWorld games, fixture Boxoban levels
tw_games = s.get("textworld_games") or generated.get("tw_games")
boxoban = generated.get("boxoban_levels") or s.get("boxoban_levels")
args += ["--tw-games", tw_games] if tw_games else []
args += ["--boxoban-levels", boxoban] if boxoban else []
run_logged(args, sm.log[0], what=f"BALROG ({sm.wildcards.variant}) of {sm.wildcards.model}",
           threads=sm.threads)

about = with_env_steps(about)
summary = json.loads((Path(sm.output.run) / "summary.json").read_text())
result = balrog_result(summary, about)
Path(sm.output.result).write_text(json.dumps(finite(asdict(result)), indent=2) + "\n")
write_manifest(sm.output.provenance, job=sm.rule, wildcards=dict(sm.wildcards),
               container=json.loads(Path(sm.input.container).read_text()),
               seed=s.get("seed", 0), extra={"model": model, **about})
