"""Stage 7 adapter: the provenance index page of every job's manifest."""

from vldac.report.index import write_index

sm = snakemake  # noqa: F821 (injected by Snakemake)
write_index(sm.input.manifests, sm.input.containers, sm.output.index)
