# Stage 5b, benchmarks: does skill learned in cheap worlds transfer? The base model and the
# checkpoints of pipeline.benchmarks.models (adapter merged into the weights) on BALROG's
# agentic protocol and, through lmms-eval, on VSI-Bench, VisualWebBench and the general
# benchmarks (Tables 2-5). Each job writes the benchmark's own outputs into a folder and a
# one-line result (scores, model, seed, data) that the tables stage reads.


rule merge_adapter:
    input:
        checkpoint="checkpoints/{env}/seed{seed}",
        versioned="checkpoints/{env}/seed{seed}.dvc",
    output:
        # A full copy of the model's weights: removed once every benchmark has read it.
        merged=temp(directory("results/merged/{env}/seed{seed}")),
        provenance="results/provenance/merge/{env}-seed{seed}.json",
    log:
        "results/logs/benchmarks/merge/{env}-seed{seed}.log",
    container:
        EVAL_IMAGE
    threads: 2
    resources:
        mem_mb=lambda wc: 48000 if benchmark_model_uses_gpu() else 4000,
        runtime=60,
        gpu=0,
    script:
        "../scripts/merge_adapter.py"


rule benchmark_fixture:
    output:
        data=directory("results/fixtures/{benchmark}"),
        provenance="results/provenance/fixtures/{benchmark}.json",
    log:
        "results/logs/benchmarks/fixtures/{benchmark}.log",
    container:
        EVAL_IMAGE
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        gpu=0,
    script:
        "../scripts/benchmark_fixture.py"


rule textworld_games:
    output:
        games=directory("results/balrog/tw_games"),
        provenance="results/provenance/balrog/tw_games.json",
    log:
        "results/logs/balrog/tw_games.log",
    container:
        EVAL_IMAGE
    threads: 1
    resources:
        mem_mb=4000,
        runtime=600,
        gpu=0,
    params:
        tasks=balrog_tasks("textworld"),
        games=balrog_episodes("textworld"),
    script:
        "../scripts/balrog_data.py"


rule boxoban_fixture:
    output:
        levels=directory("results/fixtures/boxoban-levels"),
        provenance="results/provenance/balrog/boxoban_fixture.json",
    log:
        "results/logs/balrog/boxoban_fixture.log",
    container:
        EVAL_IMAGE
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
        gpu=0,
    script:
        "../scripts/balrog_data.py"


rule balrog:
    input:
        model=benchmark_model_input,
        data=lambda wc: list(balrog_data().values()),
        container="results/containers/eval.json",
    output:
        run=directory("results/benchmarks/balrog/{variant}/{model}"),
        result="results/benchmarks/balrog/{variant}/{model}.json",
        provenance="results/provenance/benchmarks/balrog-{variant}-{model}.json",
    log:
        "results/logs/benchmarks/balrog/{variant}/{model}.log",
    container:
        EVAL_IMAGE
    threads: 2
    resources:
        mem_mb=lambda wc: 48000 if benchmark_model_uses_gpu() else 6000,
        runtime=lambda wc: 1440 if benchmark_model_uses_gpu() else 60,
        gpu=benchmark_gpu,
    params:
        settings=benchmarks_cfg().get("balrog", {}),
        tasks=balrog_tasks(),
        data=balrog_data(),
        base_model=base_model_path(),
        about=benchmark_about,
    script:
        "../scripts/balrog.py"


rule lmms_benchmark:
    input:
        model=benchmark_model_input,
        data=lambda wc: (
            [f"results/fixtures/{wc.benchmark}"]
            if lmms_data()[wc.benchmark] == "fixture"
            else []
        ),
        container="results/containers/eval.json",
    output:
        run=directory("results/benchmarks/{benchmark}/{model}"),
        result="results/benchmarks/{benchmark}/{model}.json",
        provenance="results/provenance/benchmarks/{benchmark}-{model}.json",
    log:
        "results/logs/benchmarks/{benchmark}/{model}.log",
    container:
        EVAL_IMAGE
    threads: 2
    resources:
        mem_mb=lambda wc: 48000 if benchmark_model_uses_gpu() else 6000,
        runtime=lambda wc: 720 if benchmark_model_uses_gpu() else 60,
        gpu=benchmark_gpu,
    params:
        settings=lambda wc: {
            k: v for k, v in benchmarks_cfg().get("lmms", {}).items() if k != "data"
        },
        data=lambda wc: lmms_data()[wc.benchmark],
        base_model=base_model_path(),
        about=benchmark_about,
    script:
        "../scripts/lmms_benchmark.py"
