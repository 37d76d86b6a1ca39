# Stage 6, tables: our results beside the paper's (Table 1, the training-curve endpoints, the
# benchmark Tables 2-5), plus every in-domain evaluation; and the metrics files DVC compares.


rule tables:
    input:
        done=[f"results/train/{e}/seed{s}/done.json" for e, s in runs()],
        curves=[f"results/train/{e}/seed{s}/metrics.jsonl" for e, s in runs()],
        evals=[
            f"results/eval/{e}/{w}/metrics.json"
            for e in worlds()
            for w in models_of(e)
        ],
        containers=[f"results/containers/{i}.json" for i in images_used()],
        benchmarks=[benchmark_path(*run) for run in benchmark_runs()],
    output:
        paper=report(
            "results/tables/paper_vs_ours.html",
            caption="../report/paper_vs_ours.rst",
            category="3. Results tables",
        ),
        paper_csv="results/tables/paper_vs_ours.csv",
        in_domain=report(
            "results/tables/in_domain.html",
            caption="../report/in_domain.rst",
            category="3. Results tables",
        ),
        in_domain_csv="results/tables/in_domain.csv",
        tables=expand(
            "results/tables/{table}.{ext}",
            table=["table1", "table2", "table3", "table4", "table5", "curves"],
            ext=["csv", "md"],
        ),
        dvc_eval="metrics/in_domain.json",
        dvc_train="metrics/train.json",
        dvc_benchmarks="metrics/benchmarks.json",
        provenance="results/provenance/tables/tables.json",
    log:
        "results/logs/tables/tables.log",
    container:
        REPORT_IMAGE
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        gpu=0,
    params:
        experiment={"pipeline": config["pipeline"], "runs": runs()},
        learner={e: learner_config(e, seeds_of(e)[0]) for e in worlds()},
        unavailable=benchmark_unavailable(),
        caveats=benchmark_caveats(),
    script:
        "../scripts/tables.py"
