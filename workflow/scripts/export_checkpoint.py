"""Stage 4 adapter: export a run's final checkpoint as a small run folder `vldac eval` reads."""

import json
from pathlib import Path

from vldac.report.checkpoints import export_checkpoint
from vldac.report.provenance import write_manifest

sm = snakemake  # noqa: F821 (injected by Snakemake)
done = json.loads(Path(sm.input.done).read_text())
files = export_checkpoint(sm.params.run_dir, done["checkpoint"], sm.output.checkpoint)
with open(sm.log[0], "w") as log:
    print("\n".join(str(f) for f in files), file=log)
write_manifest(sm.output.provenance, job=sm.rule, wildcards=dict(sm.wildcards),
               seed=int(sm.wildcards.seed), extra={"checkpoint": done["checkpoint"]})
