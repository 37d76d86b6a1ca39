"""Stage 7 adapter: the rollout viewer page of one checkpoint (or the base model)."""

import json
from pathlib import Path

from vldac.report.provenance import write_manifest
from vldac.report.viewer import write_viewer

sm = snakemake  # noqa: F821 (injected by Snakemake)
metrics = json.loads(Path(sm.input.metrics).read_text())
frames = Path(sm.input.frames)
runs = []
for path in sm.input.episodes:
    data = json.loads(Path(path).read_text())
    decoding = data["summary"]["decoding"]
    runs.append((decoding, data, frames / decoding))
who = "base model (adapter off)" if metrics["who"] == "base" else metrics["checkpoint"]
write_viewer(f"{metrics['world']}: {who}",
             [f"model: {metrics['model']}; held-out seed list {metrics['heldout_seed']}; "
              f"trained for {metrics['env_steps'] or 0:,} env steps."],
             runs, sm.output.page, max_episodes=sm.params.episodes)
write_manifest(sm.output.provenance, job=sm.rule, wildcards=dict(sm.wildcards))
