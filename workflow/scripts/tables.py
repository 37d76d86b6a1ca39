"""Stage 6 adapter: paper vs ours (Tables 1-5, the training-curve endpoints), the in-domain
results, and the metrics files DVC compares."""

import html
import json
from pathlib import Path

from vldac.report.curves import read_history
from vldac.report.provenance import write_manifest
from vldac.tables import (
    CURVE_ENDPOINTS,
    TABLE1,
    BenchmarkResult,
    Run,
    algorithm_label,
    benchmark_metrics,
    benchmark_rows,
    dvc_metrics,
    in_domain_rows,
    paper_rows,
)
from vldac.tables.paper import TABLE2, TABLE3, TABLE4, TABLE5
from vldac.tables.render import write_csv, write_html, write_markdown

sm = snakemake  # noqa: F821 (injected by Snakemake)
learner, pipeline = sm.params.learner, sm.params.experiment["pipeline"]
runs = []
for done_file, metrics_file in zip(sm.input.done, sm.input.curves, strict=True):
    done = json.loads(Path(done_file).read_text())
    cfg = learner[done["env"]]
    runs.append(Run(done["env"], cfg["env"]["name"], done["seed"], cfg["model"]["path"],
                    int(done["final"].get("env_steps", 0)), read_history(metrics_file),
                    algorithm_label(cfg.get("algo", {}))))
evals = [json.loads(Path(p).read_text()) for p in sm.input.evals]
records = [json.loads(Path(p).read_text()) for p in sm.input.containers]
results = [BenchmarkResult(**json.loads(Path(p).read_text())) for p in sm.input.benchmarks]


def bench(values):
    return benchmark_rows(values, results, sm.params.unavailable, sm.params.caveats)


MEAN = ("Ours = mean ± std over the checkpoints' training seeds; one BALROG run shows "
        "BALROG's standard error (SE).")
tables = {
    "table1": ("Table 1: OneRoom, peak success rate", "Paper: mean ± std over 4 seeds.",
               paper_rows(TABLE1, runs)),
    "curves": ("Training-curve endpoints (Figs. 3 and 7)",
               "Paper values read by eye; approximate.", paper_rows(CURVE_ENDPOINTS, runs)),
    "table2": ("Table 2: BALROG", "Average progression (%) over BALROG's worlds. " + MEAN,
               bench(TABLE2)),
    "table3": ("Table 3: spatial and embodied reasoning", MEAN, bench(TABLE3)),
    "table4": ("Table 4: general image and video understanding", MEAN, bench(TABLE4)),
    "table5": ("Table 5: VisualWebBench", "ROUGE-L (caption, heading OCR, element OCR), F1 "
               "(webqa), accuracy (grounding, action prediction). " + MEAN, bench(TABLE5)),
}
paths = {Path(p).name: p for p in sm.output.tables}
for name, (title, note, rows) in tables.items():
    write_csv(rows, paths[f"{name}.csv"])
    write_markdown(title, note, rows, paths[f"{name}.md"])

in_domain = in_domain_rows(evals)
where = "; ".join(
    f"{r['family']}: {r['image']} ({r['digest'][:19]})" if r["digest"]
    else f"{r['family']}: on the host ({r['reason']})" for r in records)
preface = (f"<p><b>Where the jobs ran:</b> {html.escape(where)}.</p>"
           "<p>Ours = mean ± std over the seeds named in the row; the difference is ours minus "
           "the paper's value (the middle of a printed range). Training-curve quantities use "
           "the learner's rollout/ metrics (recent training episodes), as the paper does.</p>")
order = ["table1", "curves", "table2", "table3", "table4", "table5"]
write_html([tables[k] for k in order], "Paper vs ours", sm.output.paper, preface)
write_csv([row for k in order for row in tables[k][2]], sm.output.paper_csv)
write_html([("In-domain evaluation", "Held-out (odd) seeds never used in training; 95% "
             "intervals: Wilson for success, normal for the mean return.", in_domain)],
           "In-domain evaluation", sm.output.in_domain, preface)
write_csv(in_domain, sm.output.in_domain_csv)

metrics_eval, metrics_train = dvc_metrics(runs, evals)
Path(sm.output.dvc_eval).write_text(json.dumps(metrics_eval, indent=2) + "\n")
Path(sm.output.dvc_train).write_text(json.dumps(metrics_train, indent=2) + "\n")
Path(sm.output.dvc_benchmarks).write_text(
    json.dumps(benchmark_metrics(results), indent=2) + "\n")
with open(sm.log[0], "w") as log:
    print(f"{len(runs)} training runs, {len(evals)} evaluations, {len(results)} benchmark "
          f"runs -> {', '.join(sorted(paths))}", file=log)
write_manifest(sm.output.provenance, job=sm.rule,
               extra={"runs": len(runs), "evals": len(evals), "benchmarks": len(results)})
