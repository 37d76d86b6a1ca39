"""Stage 5b adapter: a checkpoint's LoRA adapter merged into its base model's weights, as a
plain model folder the benchmarks load like any other model."""

from vldac.report.jobs import run_logged
from vldac.report.provenance import write_manifest

sm = snakemake  # noqa: F821 (injected by Snakemake)
run_logged(["model", "merge", "--run", sm.input.checkpoint, "--out", sm.output.merged],
           sm.log[0], what=f"merging {sm.input.checkpoint}", threads=sm.threads)
write_manifest(sm.output.provenance, job=sm.rule, wildcards=dict(sm.wildcards),
               seed=int(sm.wildcards.seed), extra={"checkpoint": sm.input.checkpoint})
