# VL-DAC, reproduced end to end: containers -> simulators -> train -> checkpoints -> evaluate
# (in-domain, then the downstream benchmarks) -> tables -> report, in the paper's order (one
# rule file per stage in workflow/rules/).
#
#   snakemake --profile profiles/small     # the whole DAG on the tiny model, CPU, ~7 min
#   snakemake --profile profiles/default   # the paper-scale experiment in config.yaml (GPU)
#   snakemake --profile profiles/small --report report.html
#
# Where things go (docs/output.md has every file):
#   results/containers/{image}.json        image digest per simulator family, or "host"
#   results/simulators/{env}/              health check of each world (JSON, PNG)
#   runs/{env}/seed{seed}/                 learner run folders (checkpoints, metrics); never
#                                          a rule output, so a killed job keeps its progress
#   results/train/{env}/seed{seed}/        done marker + training metrics of each run
#   checkpoints/{env}/seed{seed}/ (+.dvc)  exported adapter + value head, versioned by DVC
#   results/eval/{env}/{who}/              in-domain evaluation (who = seedN or base)
#   results/benchmarks/balrog/{agent}/{model}/  BALROG runs (agent naive or cot; model = base
#                                          or {env}-seed{N}), + {model}.json: the scores
#   results/benchmarks/{bench}/{model}/    lmms-eval runs (VSI-Bench, ...), + {model}.json
#   results/tables/                        paper vs ours, in-domain results
#   metrics/                               what DVC compares (dvc.yaml): metrics and curves
#   results/report/                        curves, rollout viewers, provenance index
#   results/provenance/                    one manifest per job
#   results/logs/                          one log per job


configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/containers.smk"
include: "workflow/rules/simulators.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/checkpoints.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/benchmarks.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/report.smk"


report: "workflow/report/workflow.rst"


onstart:
    preflight(local_exec=workflow.local_exec)


onsuccess:
    print_report_hint()


rule all:
    default_target: True
    input:
        final_targets(),
