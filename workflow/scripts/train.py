"""Stage 3 adapter: `vldac train` for one world x seed, resuming a killed run's checkpoints.

The run folder is not a Snakemake output (a failed job's outputs are deleted); this job's
outputs are a done marker, the metrics and the curve DVC plots.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from vldac.report.curves import write_curve_csv
from vldac.report.provenance import write_manifest
from vldac.train.distributed import launch_command

sm = snakemake  # noqa: F821 (injected by Snakemake)
run_dir = Path(sm.params.run_dir)
config_file = run_dir.with_name(run_dir.name + ".yaml")  # beside the run, never inside it
config_file.parent.mkdir(parents=True, exist_ok=True)
config_file.write_text(yaml.safe_dump(sm.params.config, sort_keys=False))

# One process, or torchrun's data-parallel processes (pipeline.train_processes).
cmd = launch_command(int(sm.params.processes), ["train", "--config", str(config_file)])
with open(sm.log[0], "a") as log:
    if (run_dir / "checkpoints" / "latest").is_file():
        cmd.append("--resume")  # an earlier attempt was killed: continue from its checkpoint
        print(f"resuming {run_dir} from its latest checkpoint", file=log, flush=True)
    elif run_dir.exists():
        # Killed before its first checkpoint: nothing to keep, and `vldac train` refuses to
        # start in a non-empty folder.
        print(f"{run_dir} holds no checkpoint; starting it afresh", file=log, flush=True)
        shutil.rmtree(run_dir)
    env = {**os.environ, "OMP_NUM_THREADS": str(sm.threads), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
if done.returncode != 0:
    sys.exit(f"training {run_dir} failed (exit {done.returncode}); see {sm.log[0]}.")

history = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
shutil.copyfile(run_dir / "metrics.jsonl", sm.output.metrics)
write_curve_csv(history, sm.output.curve)
checkpoint = (run_dir / "checkpoints" / "latest").read_text().strip()
learner = json.loads((run_dir / "manifest.json").read_text())
Path(sm.output.done).write_text(json.dumps({
    "env": sm.wildcards.env, "seed": int(sm.wildcards.seed), "run_dir": str(run_dir),
    "config_file": str(config_file), "checkpoint": checkpoint,
    "final": json.loads((run_dir / "final_metrics.json").read_text()),
}, indent=2) + "\n")
container = json.loads(Path(sm.input.container).read_text())
write_manifest(sm.output.provenance, job=sm.rule, wildcards=dict(sm.wildcards),
               container=container, seed=int(sm.wildcards.seed), device=learner.get("device"),
               extra={"learner_manifest": learner, "run_dir": str(run_dir)})
