# The benchmark stage's share of the shared helpers (included by common.smk): who and what
# is benchmarked (pipeline.benchmarks), where each job's files go, what the tables say of
# rows without a run, and the checks of benchmark names and data before any job.
from pathlib import Path


# ---- who and what is benchmarked --------------------------------------------------------
def benchmarks_cfg():
    return config["pipeline"].get("benchmarks") or {}


def bench_models():
    """Who is benchmarked: `base`, and `<env>-seed<N>` for every seed of each listed env."""
    who = []
    for key in benchmarks_cfg().get("models", []):
        who += ["base"] if key == "base" else [f"{key}-seed{s}" for s in seeds_of(key)]
    return who


def split_model(model):
    """(env, seed) of a benchmarked checkpoint `<env>-seed<N>`; (None, None) for `base`."""
    if model == "base":
        return None, None
    env, seed = model.rsplit("-seed", 1)
    return env, int(seed)


def base_model_path():
    return benchmarks_cfg().get("base_model") or config["model"]["path"]


def balrog_agents():
    balrog = benchmarks_cfg().get("balrog") or {}
    return list(balrog.get("agents", [])) if balrog.get("enabled", True) else []


def balrog_tasks(env=None):
    """The BALROG tasks run (pipeline.benchmarks.balrog.tasks, default BALROG's), of one env
    or of all the configured ones."""
    from vldac.eval.balrog.envs import TASKS

    balrog = benchmarks_cfg().get("balrog") or {}
    envs = [e for e in balrog.get("envs", []) if env is None or e == env]
    chosen = balrog.get("tasks")
    return [t for e in envs for t in TASKS[e] if chosen is None or t in chosen]


def balrog_episodes(env):
    from vldac.eval.balrog.envs import NUM_EPISODES

    return (benchmarks_cfg().get("balrog") or {}).get("episodes") or NUM_EPISODES[env]


def balrog_data(wildcards=None):
    """Generated BALROG data the runs need: TextWorld games (unless the user's are given)
    and, with `boxoban_levels: fixture`, synthetic Boxoban levels."""
    balrog = benchmarks_cfg().get("balrog") or {}
    data = {}
    if balrog_tasks("textworld") and not balrog.get("textworld_games"):
        data["tw_games"] = "results/balrog/tw_games"
    boxoban = [t for t in balrog_tasks("minihack") if "Boxoban" in t]
    if boxoban and balrog.get("boxoban_levels") == "fixture":
        data["boxoban_levels"] = "results/fixtures/boxoban-levels"
    return data


def lmms_data():
    """lmms-eval benchmark -> its data folder (or `fixture`), for those that are run."""
    data = (benchmarks_cfg().get("lmms") or {}).get("data") or {}
    return {name: path for name, path in data.items() if path}


def benchmark_runs():
    """(benchmark, BALROG agent or None, model) of every benchmark job: one BALROG run per
    agent type; one lmms-eval run holds all of a benchmark's prompt variants."""
    models = bench_models()
    out = [("balrog", agent, m) for agent in balrog_agents() for m in models]
    return out + [(b, None, m) for b in lmms_data() for m in models]


def benchmark_path(benchmark, variant, model, kind="result"):
    """Where a benchmark job's result (`.json`) or provenance manifest goes."""
    if kind == "provenance":
        name = f"{benchmark}-{variant}-{model}" if variant else f"{benchmark}-{model}"
        return f"results/provenance/benchmarks/{name}.json"
    folder = f"{benchmark}/{variant}" if variant else benchmark
    return f"results/benchmarks/{folder}/{model}.json"


def benchmark_model_input(wildcards):
    """A checkpoint's merged model folder; nothing for the base model (read by path)."""
    env, seed = split_model(wildcards.model)
    return [] if env is None else [f"results/merged/{env}/seed{seed}"]


def benchmark_about(wildcards):
    """What the tables need to know of the benchmarked model (tables.BenchmarkResult)."""
    env, seed = split_model(wildcards.model)
    if env is None:
        return {
            "trained_in": None,
            "seed": None,
            "model": base_model_path(),
            "env_steps": None,
            "checkpoint": None,
        }
    learner = learner_config(env, seed)
    return {
        "trained_in": learner["env"]["name"],
        "seed": seed,
        "model": learner["model"]["path"],
        "env_steps": None,
        "checkpoint": f"checkpoints/{env}/seed{seed}",
    }


def benchmark_unavailable():
    """ "benchmark:variant" -> why this experiment has no such run (the tables print it)."""
    from vldac.tables.paper import BENCHMARK_VALUES

    balrog = benchmarks_cfg().get("balrog") or {}
    data = (benchmarks_cfg().get("lmms") or {}).get("data") or {}
    why = {}
    for value in BENCHMARK_VALUES:
        name, variant = value.benchmark, value.variant
        if name == "balrog":
            if not balrog.get("enabled", True) or variant not in balrog_agents():
                why[f"{name}:{variant}"] = (
                    f"BALROG's {variant} agent is not run "
                    "(pipeline.benchmarks.balrog.enabled/agents)"
                )
        elif name not in lmms_benchmark_names():
            why[f"{name}:{variant}"] = (
                f"{name} has no lmms-eval adapter in this project yet"
            )
        elif not data.get(name):
            why[f"{name}:{variant}"] = (
                f"no local dataset: set pipeline.benchmarks.lmms.data.{name} "
                "(README, Benchmarks)"
            )
        elif variant == "cot" and not _has_cot(name):
            why[f"{name}:{variant}"] = (
                "the paper's chain-of-thought prompt for this benchmark is not published; "
                "we run the benchmark's own prompt (the naive rows)"
            )
        elif not bench_models():
            why[f"{name}:{variant}"] = "pipeline.benchmarks.models is empty"
    return why


def benchmark_caveats():
    """How our runs of a benchmark differ from the paper's (the tables print it)."""
    from vldac.eval.balrog.envs import MISSING, TASKS

    envs = (benchmarks_cfg().get("balrog") or {}).get("envs", [])
    notes = [f"ours averages {', '.join(envs)}"]
    all_tasks = [t for env in envs for t in TASKS[env]]
    if len(balrog_tasks()) < len(all_tasks):
        left_out = sorted(set(all_tasks) - set(balrog_tasks()))
        notes.append(f"of their tasks, not run: {', '.join(left_out)}")
    notes += [f"not run: {env}: {reason}" for env, reason in MISSING.items()]
    return {"balrog": "; ".join(notes)}


def _has_cot(name):
    from vldac.eval.lmms.registry import get

    return any(task.endswith("_cot") for task in get(name).tasks)


def lmms_benchmark_names():
    from vldac.eval.lmms.registry import names

    return names()


def benchmark_model_uses_gpu():
    return not str(base_model_path()).startswith("tiny:")


def benchmark_gpu(wildcards=None):
    return 1 if benchmark_model_uses_gpu() else 0


# ---- checks before any job ------------------------------------------------------------
def _benchmark_checks(bench, train_on):
    """Benchmarked models must be trained here; benchmark and world names must exist."""
    problems = []
    for key in bench.get("models", []):
        if key != "base" and key not in train_on:
            problems.append(
                f"pipeline.benchmarks.models names {key!r}, which is neither `base` nor in "
                f"pipeline.train_on ({', '.join(train_on)})."
            )
    envs = (bench.get("balrog") or {}).get("envs", [])
    if envs:
        from vldac.eval.balrog.envs import ENVIRONMENTS, MISSING

        for env in envs:
            if env not in ENVIRONMENTS:
                why = f" ({MISSING[env]})" if env in MISSING else ""
                problems.append(
                    f"pipeline.benchmarks.balrog.envs names {env!r}{why}; BALROG worlds "
                    f"that run here: {', '.join(ENVIRONMENTS)}."
                )
    chosen = (bench.get("balrog") or {}).get("tasks")
    if envs and chosen:
        from vldac.eval.balrog.envs import TASKS

        known = [t for env in envs for t in TASKS.get(env, [])]
        for task in chosen:
            if task not in known:
                problems.append(
                    f"pipeline.benchmarks.balrog.tasks names {task!r}, not a BALROG task of "
                    f"{', '.join(envs)} ({', '.join(known)})."
                )
    data = (bench.get("lmms") or {}).get("data") or {}
    if data:
        for name in data:
            if name not in lmms_benchmark_names():
                problems.append(
                    f"pipeline.benchmarks.lmms.data names {name!r}; lmms-eval benchmarks: "
                    f"{', '.join(lmms_benchmark_names())}."
                )
    return problems


def _benchmark_data_problems():
    """One sentence per benchmark whose data this experiment names but cannot find."""
    balrog = benchmarks_cfg().get("balrog") or {}
    problems = []
    boxoban = (
        [t for t in balrog_tasks("minihack") if "Boxoban" in t]
        if balrog_agents()
        else []
    )
    levels = balrog.get("boxoban_levels")
    if boxoban and levels != "fixture":
        try:  # minihack may live only in the eval image: then the job itself checks
            from vldac.eval.balrog.envs.minihack import boxoban_levels_dir

            boxoban_levels_dir(boxoban[0], levels)
        except ImportError:
            pass
        except FileNotFoundError:
            problems.append(
                f"BALROG's {' and '.join(boxoban)} need deepmind's boxoban-levels: `git "
                "clone https://github.com/deepmind/boxoban-levels` and set "
                "pipeline.benchmarks.balrog.boxoban_levels to that folder (or leave those "
                "tasks out with pipeline.benchmarks.balrog.tasks)."
            )
    given = balrog.get("textworld_games")
    if balrog_tasks("textworld") and given and not Path(given).is_dir():
        problems.append(
            f"pipeline.benchmarks.balrog.textworld_games is {given!r}, which is not a folder."
        )
    for name, path in lmms_data().items():
        if path != "fixture" and not Path(path).is_dir():
            problems.append(
                f"pipeline.benchmarks.lmms.data.{name} is {path!r}, which is not a folder "
                "(docs/benchmarks.md says what to download)."
            )
    return problems
