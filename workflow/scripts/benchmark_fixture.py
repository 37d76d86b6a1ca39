"""Stage 5b adapter: a tiny synthetic stand-in for a benchmark's dataset, in its real schema
(tests and the small profile; its numbers mean nothing)."""

from vldac.report.jobs import run_logged
from vldac.report.provenance import write_manifest

sm = snakemake  # noqa: F821 (injected by Snakemake)
run_logged(["fixtures", "--benchmark", sm.wildcards.benchmark, "--out", sm.output.data],
           sm.log[0], what=f"generating the {sm.wildcards.benchmark} fixture")
write_manifest(sm.output.provenance, job=sm.rule, wildcards=dict(sm.wildcards))
