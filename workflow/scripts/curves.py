"""Stage 7 adapter: the training-curve figure of one world (every seed)."""

from vldac.report.curves import plot_curves, read_history
from vldac.report.provenance import write_manifest

sm = snakemake  # noqa: F821 (injected by Snakemake)
histories = {f"seed{s}": read_history(p)
             for s, p in zip(sm.params.seeds, sm.input.metrics, strict=True)}
plot_curves(histories, f"{sm.params.name} ({sm.wildcards.env})", sm.output.figure)
write_manifest(sm.output.provenance, job=sm.rule, wildcards=dict(sm.wildcards))
