# Shared by every rule: config validation (before any job), the experiment's lists (worlds,
# seeds, models), per-run learner configs, and the pre-flight check of what this machine can
# run. Helpers live here so that the rule files stay declarations; the benchmark stage's live
# in common_benchmarks.smk (included below, before the validation that uses them).
import copy
import json
import os
import shutil
import socket
from pathlib import Path

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError

from vldac.config import ConfigError, from_dict
from vldac.envs.registry import registered

LEARNER_SECTIONS = ("model", "env", "rollout", "algo", "train", "log")
SCHEMA_FILE = Path(workflow.source_path("../schemas/config.schema.yaml"))
REPORT = "results/report.html"
SMALL_PROFILE_HINT = "run the small profile instead: snakemake --profile profiles/small"


# ---- 1. validation ---------------------------------------------------------------------------
def _where(error):
    path = "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
    )
    return path.lstrip(".") or "the top level"


def _sentence(error):
    """One sentence for one schema violation, naming the key."""
    where = _where(error)
    if error.validator == "additionalProperties" and error.validator_value is False:
        allowed = sorted(error.schema.get("properties", {}))
        prefix = "" if where == "the top level" else f"{where}."
        unknown = sorted(set(error.instance) - set(allowed))
        keys = ", ".join(prefix + str(k) for k in unknown)
        return f"unknown config key {keys}; allowed keys here: {', '.join(allowed)}."
    if error.validator == "required":
        return f"config key {where} is missing {error.message.split(' ')[0]}."
    return f"config key {where}: {error.message}."


def validate_experiment(cfg):
    """Raise WorkflowError listing one sentence per bad key; return nothing when all is well."""
    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    problems = [_sentence(e) for e in sorted(validator.iter_errors(cfg), key=str)]
    if not problems:
        problems = _cross_checks(cfg)
    if problems:
        raise WorkflowError(
            "the experiment config is invalid:\n  " + "\n  ".join(problems)
        )


def _cross_checks(cfg):
    """What a schema cannot say: references between keys, registered envs, typed configs."""
    pipe, problems = cfg["pipeline"], []
    envs, images = pipe["environments"], pipe["containers"]["images"]
    for key in pipe["train_on"]:
        if key not in envs:
            problems.append(
                f"pipeline.train_on names {key!r}, which is not in pipeline.environments "
                f"({', '.join(envs)})."
            )
    for key, env in envs.items():
        if env["name"] not in registered():
            problems.append(
                f"pipeline.environments.{key}.name must be a registered env "
                f"({', '.join(registered())}); got {env['name']!r}."
            )
        if env["image"] not in images:
            problems.append(
                f"pipeline.environments.{key}.image must be a key of pipeline.containers.images "
                f"({', '.join(images)}); got {env['image']!r}."
            )
    problems += _benchmark_checks(pipe.get("benchmarks") or {}, pipe["train_on"])
    if problems:
        return problems
    for key in pipe["train_on"]:  # the learner's own (typed) validation, before any job
        try:
            from_dict(learner_config(key, seeds_of(key)[0]))
        except ConfigError as err:
            problems.append(f"pipeline.environments.{key}: {err}")
    return problems


# ---- 2. the experiment's lists ---------------------------------------------------------------
def _deep_merge(base, over):
    merged = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict) and k != "kwargs":
            merged[k] = _deep_merge(merged[k], v)
        else:
            merged[k] = copy.deepcopy(v)
    return merged


def worlds():
    """Environment keys the DAG trains on, in config order."""
    return list(config["pipeline"]["train_on"])


def seeds_of(env):
    spec = config["pipeline"]["environments"][env]
    return list(spec.get("seeds", config["pipeline"]["seeds"]))


def runs():
    """(env, seed) of every training run."""
    return [(env, seed) for env in worlds() for seed in seeds_of(env)]


def models_of(env):
    """Who is evaluated in world ``env``: every seed's checkpoint, then the base model."""
    who = [f"seed{s}" for s in seeds_of(env)]
    return who + (
        ["base"] if config["pipeline"]["evaluation"].get("base_model", True) else []
    )


def learner_config(env, seed):
    """The `vldac train` config of one run: learner sections + the env's overrides."""
    spec = config["pipeline"]["environments"][env]
    data = {k: copy.deepcopy(config[k]) for k in LEARNER_SECTIONS if k in config}
    data = _deep_merge(data, spec.get("learner", {}))
    data = _deep_merge(data, {"env": {"name": spec["name"]}})
    data["seed"] = int(seed)
    data["output_dir"] = run_dir(env, seed)
    return data


def run_dir(env, seed):
    """The learner's run folder: checkpoints live here, outside every rule's declared outputs,
    so that a failed or killed job never loses them (Snakemake deletes a failed job's outputs).
    """
    return f"runs/{env}/seed{seed}"


def image_of(env):
    return config["pipeline"]["environments"][env]["image"]


def container_of(wildcards):
    """The container image of the job's simulator family (used with --sdm apptainer)."""
    return config["pipeline"]["containers"]["images"][image_of(wildcards.env)]


def images_used():
    images = {image_of(env) for env in worlds()}
    return sorted(images | ({"eval"} if benchmark_runs() else set()))


def uses_gpu(env):
    """Paper-scale models need an accelerator; the embedded tiny models run on CPU."""
    path = learner_config(env, seeds_of(env)[0]).get("model", {}).get("path", "")
    return not str(path).startswith("tiny:")


def train_processes(wildcards):
    """Data-parallel processes of one training run (torchrun when more than one)."""
    return int(config["pipeline"].get("train_processes", 1))


def gpu_of(wildcards):
    """GPUs of a training job: one per process; none for the tiny CPU models."""
    return train_processes(wildcards) if uses_gpu(wildcards.env) else 0


def checkpoint_of(wildcards):
    """The exported checkpoint behind ``who``; the base model is read from the first seed's
    run (same model and world, adapter off)."""
    seed = seeds_of(wildcards.env)[0] if wildcards.who == "base" else wildcards.who[4:]
    return f"checkpoints/{wildcards.env}/seed{seed}"


def job_manifests():
    """Every provenance manifest the DAG's jobs write (the index rule excepted)."""
    paths = [f"results/provenance/containers/{i}.json" for i in images_used()]
    paths += [f"results/provenance/simulators/{e}.json" for e in worlds()]
    paths += [f"results/provenance/train/{e}-seed{s}.json" for e, s in runs()]
    paths += [f"results/provenance/checkpoints/{e}-seed{s}.json" for e, s in runs()]
    paths += [f"results/provenance/checkpoints/{e}-seed{s}-dvc.json" for e, s in runs()]
    paths += [
        f"results/provenance/evaluate/{e}-{w}.json"
        for e in worlds()
        for w in models_of(e)
    ]
    paths += [benchmark_path(*run, kind="provenance") for run in benchmark_runs()]
    paths += [
        f"results/provenance/merge/{e}-seed{s}.json"
        for e, s in map(split_model, bench_models())
        if e is not None
    ]
    data = balrog_data() if balrog_agents() else {}
    paths += ["results/provenance/balrog/tw_games.json"] if "tw_games" in data else []
    paths += (
        ["results/provenance/balrog/boxoban_fixture.json"]
        if "boxoban_levels" in data
        else []
    )
    paths += [
        f"results/provenance/fixtures/{b}.json"
        for b, d in lmms_data().items()
        if d == "fixture"
    ]
    paths += ["results/provenance/tables/tables.json"]
    paths += [f"results/provenance/report/curves-{e}.json" for e in worlds()]
    paths += [
        f"results/provenance/report/viewer-{e}-{w}.json"
        for e in worlds()
        for w in models_of(e)
    ]
    return paths


def final_targets():
    """What the default target asks for: every stage's end products."""
    return [
        *[f"checkpoints/{e}/seed{s}.dvc" for e, s in runs()],
        "results/tables/paper_vs_ours.html",
        "results/tables/in_domain.html",
        *[f"results/report/curves/{e}.png" for e in worlds()],
        *[
            f"results/report/viewer/{e}/{w}.html"
            for e in worlds()
            for w in models_of(e)
        ],
        "results/report/provenance.html",
    ]


def print_report_hint():
    """After a successful run: build the HTML report and print where it is."""
    import subprocess
    import sys

    out = Path(REPORT).resolve()
    cmd = [sys.executable, "-m", "snakemake", "--report", str(out), "--nolock"]
    cmd += ["--snakefile", workflow.main_snakefile, "--cores", "1"]
    # One flag for all files: a repeated --configfile keeps only the last.
    if workflow.overwrite_configfiles:
        cmd += ["--configfile", *map(str, workflow.overwrite_configfiles)]
    log = Path("results/logs/report/report.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as sink:
        done = subprocess.run(cmd, stdout=sink, stderr=subprocess.STDOUT)
    if done.returncode == 0:
        print(f"report: {out}")
    else:
        print(
            f"the report was not built (see {log}); build it with: snakemake --report {out}"
        )


# ---- host-side jobs (run: blocks of local rules) ----------------------------------------
def container_job(family, params, output, log):
    """Build or inspect the image of ``family``; write its record and the job's manifest."""
    from vldac.report.provenance import record_container, write_manifest

    s = params.settings
    record = record_container(
        family,
        s["images"][family],
        mode=s["mode"],
        runtime=s.get("runtime", "auto"),
        tag=s.get("tag", "0.1.0"),
        build_options=s.get("build_options", []),
        build_script=params.build_script,
        log=log,
    )
    Path(output.record).write_text(json.dumps(record, indent=2) + "\n")
    # Keyword arguments through a dict: Snakemake's parser reads a line that starts with
    # `container=` as its `container:` directive.
    about = {"job": "container", "wildcards": {"image": family}, "container": record}
    write_manifest(output.provenance, **about)


def dvc_job(folder, output, settings, wildcards, log):
    """`dvc add` + `dvc push` of one checkpoint folder; write the job's manifest."""
    from vldac.report.checkpoints import version_with_dvc
    from vldac.report.provenance import write_manifest

    remote = settings.get("remote", "local") if settings.get("push", True) else None
    version_with_dvc(folder, remote=remote, log=log)
    write_manifest(
        output.provenance,
        job="version_checkpoint",
        wildcards=dict(wildcards),
        seed=int(wildcards.seed),
        extra={"dvc_file": output.dvc_file, "pushed_to": remote},
    )


# ---- 3. pre-flight: can this machine run the experiment? ------------------------------------
def _gpu_visible():
    if shutil.which("nvidia-smi") is None:
        return False
    return os.environ.get("CUDA_VISIBLE_DEVICES", "0") not in ("", "-1")


def _weights_reachable(path):
    if Path(path).expanduser().is_dir():
        return True
    hub = Path(os.environ.get("HF_HOME", "~/.cache/huggingface")).expanduser() / "hub"
    if (hub / ("models--" + "--".join(Path(path).parts))).is_dir():
        return True
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    try:  # the hub answers within seconds where it is reachable at all
        socket.create_connection(("huggingface.co", 443), timeout=3).close()
        return True
    except OSError:
        return False


def preflight(local_exec):
    """Raise WorkflowError (one sentence) when a job of this experiment cannot run here.

    Jobs sent to a cluster (non-local executor) run on its GPU nodes, so the GPU is only
    checked for local execution; the weights are checked everywhere."""
    paths = {learner_config(e, seeds_of(e)[0])["model"]["path"] for e in worlds()}
    if "base" in bench_models():
        paths.add(base_model_path())
    paths = sorted(paths)
    big = [p for p in paths if not p.startswith("tiny:")]
    missing = []
    if big and local_exec and not _gpu_visible():
        missing.append("no CUDA GPU is visible on this machine")
    unreachable = [p for p in big if not _weights_reachable(p)]
    if unreachable:
        missing.append(
            f"the model weights {', '.join(unreachable)} are neither a local folder nor in "
            "the Hugging Face cache, and huggingface.co cannot be reached"
        )
    if missing:
        raise WorkflowError(
            f"This experiment cannot run here: {' and '.join(missing)}; {SMALL_PROFILE_HINT}."
        )
    problems = _benchmark_data_problems()
    if problems:
        raise WorkflowError(
            "The benchmarks' data is missing:\n  " + "\n  ".join(problems)
        )


include: "common_benchmarks.smk"


validate_experiment(config)
# The image of the DAG's own bookkeeping jobs (export, tables, report): the core package and
# matplotlib.
REPORT_IMAGE = config["pipeline"]["containers"]["images"]["report"]
# The benchmark jobs' image: BALROG's worlds and lmms-eval (containers/eval).
EVAL_IMAGE = config["pipeline"]["containers"]["images"]["eval"]


wildcard_constraints:
    env=r"[A-Za-z0-9_-]+",
    seed=r"\d+",
    who=r"seed\d+|base",
    image=r"[a-z0-9_-]+",
    model=r"base|[A-Za-z0-9_-]+-seed\d+",
    variant=r"naive|cot",
    # lmms-eval's benchmarks (BALROG has its own rule)
    benchmark="|".join(lmms_benchmark_names()),
