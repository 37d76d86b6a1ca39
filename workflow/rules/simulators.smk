# Stage 2, simulators: a health check of each world (random steps, then the scripted expert
# must win) before any training job uses it.


rule check_simulator:
    input:
        container=lambda wc: f"results/containers/{image_of(wc.env)}.json",
    output:
        result="results/simulators/{env}/check.json",
        frame=report(
            "results/simulators/{env}/check.png",
            caption="../report/simulator.rst",
            category="1. Simulators",
            labels={"world": "{env}"},
        ),
        provenance="results/provenance/simulators/{env}.json",
    log:
        "results/logs/simulators/{env}.log",
    container:
        container_of
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=0,
    params:
        name=lambda wc: config["pipeline"]["environments"][wc.env]["name"],
        env_config=lambda wc: learner_config(wc.env, 0)["env"],
    script:
        "../scripts/check_simulator.py"
