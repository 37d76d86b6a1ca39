# Stage 5, evaluate: each checkpoint and the base model in its own world, on held-out seeds
# never used in training, with every decoding in the config. The benchmark issue adds its
# rules to this stage (pipeline.benchmarks).


rule evaluate:
    input:
        checkpoint=checkpoint_of,
        versioned=lambda wc: checkpoint_of(wc) + ".dvc",
        container=lambda wc: f"results/containers/{image_of(wc.env)}.json",
    output:
        metrics="results/eval/{env}/{who}/metrics.json",
        episodes=expand(
            "results/eval/{{env}}/{{who}}/{decoding}.json",
            decoding=config["pipeline"]["evaluation"]["decodings"],
        ),
        frames=directory("results/eval/{env}/{who}/frames"),
        provenance="results/provenance/evaluate/{env}-{who}.json",
    log:
        "results/logs/evaluate/{env}/{who}.log",
    container:
        container_of
    threads: 2
    resources:
        mem_mb=lambda wc: 32000 if uses_gpu(wc.env) else 4000,
        runtime=lambda wc: 240 if uses_gpu(wc.env) else 30,
        gpu=gpu_of,
    params:
        evaluation=config["pipeline"]["evaluation"],
    script:
        "../scripts/evaluate.py"
