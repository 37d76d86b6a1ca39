# Stage 3, train: one VL-DAC run per world x seed. The run folder (runs/{env}/seed{seed}) is
# not an output: Snakemake deletes a failed job's outputs, and the checkpoints must survive a
# killed job. The script resumes from the latest checkpoint when one exists.


rule train:
    input:
        check="results/simulators/{env}/check.json",
        container=lambda wc: f"results/containers/{image_of(wc.env)}.json",
    output:
        done="results/train/{env}/seed{seed}/done.json",
        metrics="results/train/{env}/seed{seed}/metrics.jsonl",
        curve="metrics/curves/{env}/seed{seed}.csv",
        provenance="results/provenance/train/{env}-seed{seed}.json",
    log:
        "results/logs/train/{env}/seed{seed}.log",
    container:
        container_of
    threads: 2
    resources:
        mem_mb=lambda wc: 64000 if uses_gpu(wc.env) else 4000,
        runtime=lambda wc: 1440 if uses_gpu(wc.env) else 30,
        gpu=gpu_of,
    params:
        config=lambda wc: learner_config(wc.env, wc.seed),
        run_dir=lambda wc: run_dir(wc.env, wc.seed),
        processes=train_processes,
    script:
        "../scripts/train.py"
