# Stage 7, report: training curves per world, a rollout viewer per checkpoint, and an index
# of every job's provenance manifest; `snakemake --report` gathers them with the tables.


rule curves:
    input:
        metrics=lambda wc: [
            f"results/train/{wc.env}/seed{s}/metrics.jsonl" for s in seeds_of(wc.env)
        ],
    output:
        figure=report(
            "results/report/curves/{env}.png",
            caption="../report/curves.rst",
            category="2. Training curves",
            labels={"world": "{env}"},
        ),
        provenance="results/provenance/report/curves-{env}.json",
    log:
        "results/logs/report/curves-{env}.log",
    container:
        REPORT_IMAGE
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        gpu=0,
    params:
        seeds=lambda wc: seeds_of(wc.env),
        name=lambda wc: config["pipeline"]["environments"][wc.env]["name"],
    script:
        "../scripts/curves.py"


rule viewer:
    input:
        metrics="results/eval/{env}/{who}/metrics.json",
        episodes=expand(
            "results/eval/{{env}}/{{who}}/{decoding}.json",
            decoding=config["pipeline"]["evaluation"]["decodings"],
        ),
        frames="results/eval/{env}/{who}/frames",
    output:
        page=report(
            "results/report/viewer/{env}/{who}.html",
            caption="../report/viewer.rst",
            category="4. Rollout viewer",
            labels={"world": "{env}", "model": "{who}"},
        ),
        provenance="results/provenance/report/viewer-{env}-{who}.json",
    log:
        "results/logs/report/viewer-{env}-{who}.log",
    container:
        REPORT_IMAGE
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        gpu=0,
    params:
        episodes=config["pipeline"]["evaluation"].get("viewer_episodes", 3),
    script:
        "../scripts/viewer.py"


rule provenance:
    input:
        manifests=lambda wc: job_manifests(),
        containers=[f"results/containers/{i}.json" for i in images_used()],
    output:
        index=report(
            "results/report/provenance.html",
            caption="../report/provenance.rst",
            category="5. Provenance",
        ),
    log:
        "results/logs/report/provenance.log",
    container:
        REPORT_IMAGE
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
        gpu=0,
    script:
        "../scripts/provenance.py"
