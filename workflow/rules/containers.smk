# Stage 1, containers: one image per simulator family, built or inspected, its digest recorded.
# With no container runtime (or mode: host) the record says "host", and so does the report.
# A local rule with a `run:` block: it drives the container runtime where Snakemake runs, it
# does not live inside an image itself.


rule container:
    output:
        record="results/containers/{image}.json",
        provenance="results/provenance/containers/{image}.json",
    log:
        "results/logs/containers/{image}.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=0,
    params:
        settings=config["pipeline"]["containers"],
        build_script=str(Path(workflow.basedir) / "containers" / "build.sh"),
    run:
        container_job(wildcards.image, params, output, log[0])
