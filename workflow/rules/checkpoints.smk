# Stage 4, checkpoints: export each run's final adapter + value head (a self-contained run
# folder that `vldac eval --run` reads), then version it with DVC (add + push).


rule export_checkpoint:
    input:
        done="results/train/{env}/seed{seed}/done.json",
    output:
        checkpoint=directory("checkpoints/{env}/seed{seed}"),
        provenance="results/provenance/checkpoints/{env}-seed{seed}.json",
    log:
        "results/logs/checkpoints/{env}/seed{seed}-export.log",
    container:
        REPORT_IMAGE
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
        gpu=0,
    params:
        run_dir=lambda wc: run_dir(wc.env, wc.seed),
    script:
        "../scripts/export_checkpoint.py"


rule version_checkpoint:
    input:
        checkpoint="checkpoints/{env}/seed{seed}",
    output:
        dvc_file="checkpoints/{env}/seed{seed}.dvc",
        provenance="results/provenance/checkpoints/{env}-seed{seed}-dvc.json",
    log:
        "results/logs/checkpoints/{env}/seed{seed}-dvc.log",
    # Where Snakemake runs: `dvc` works on this repository and its remote.
    localrule: True
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=0,
    params:
        dvc=config["pipeline"].get("dvc", {}),
    run:
        dvc_job(input.checkpoint, output, params.dvc, wildcards, log[0])
