"""WebShop end to end: the Flask shop in its own process, Debian's Chromium via Playwright.

Skipped only when flask or playwright cannot be imported or /usr/bin/chromium is missing.
One env serves the whole module (the server and browser start once, ~5 s).
"""

import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("flask", reason="the WebShop site needs flask (pip install 'vldac[webshop]')")
pytest.importorskip("playwright", reason="WebShop needs playwright (pip install 'vldac[webshop]')")
if not Path("/usr/bin/chromium").is_file():
    pytest.skip("WebShop needs Debian's chromium (apt-get install chromium)",
                allow_module_level=True)

from vldac.envs import make  # noqa: E402
from vldac.envs.webshop.browser import BrowserTab  # noqa: E402
from vldac.envs.webshop.server import ServerStartError, ShopServer  # noqa: E402

NAME = "webshop/WebShop-v0"


@pytest.fixture(scope="module")
def env():
    shop = make(NAME, num_products=300)
    yield shop
    shop.close()


def answer(action):
    return f'{{"thoughts": "t", "action": "{action}"}}'


def play_expert(shop, seed):
    shop.reset(seed)
    while True:
        result = shop.step(answer(shop.expert_action()))
        if result.terminated or result.truncated:
            return result


def descendants(pid):
    """Pids of every living process below ``pid`` (from /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def comm(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def test_same_seed_replays_the_same_pages_and_pixels(env):
    texts = [answer("search[organic green tea]"), "garbage", answer("click[Next >]"),
             answer("click[< Prev]"), answer("click[Buy Now]")]
    runs = []
    for _ in range(2):
        obs = env.reset(11)
        trace = [(obs.text, obs.images[0].tobytes())]
        for text in texts:
            result = env.step(text)
            trace.append((result.observation.text, result.observation.images[0].tobytes(),
                          result.reward, result.info["action_is_valid"]))
        runs.append(trace)
    assert runs[0] == runs[1]  # text and pixels identical in one browser
    assert runs[0][0][1] != runs[0][1][1]  # the search really changed the page
    assert env.reset(12).text != runs[0][0][0]  # another seed, another goal
    image = env.reset(11).images[0]
    assert (image.mode, image.size) == ("RGB", (512, 512))


def test_expert_wins_and_random_play_mostly_fails(env):
    # Measured on 100 seeds: the expert wins 100; random play wins 0 of 40 (mean score 0.26).
    wins = [play_expert(env, seed) for seed in range(8)]
    assert sum(r.info["success"] for r in wins) >= 7
    assert all(r.terminated and 0.0 <= r.reward <= 1.0 for r in wins)
    rng, random_wins = random.Random(0), 0
    for seed in range(8):
        env.reset(100 + seed)
        while True:
            result = env.step(answer(rng.choice(env.admissible_actions())))
            if result.terminated or result.truncated:
                break
        random_wins += result.info["success"]
    assert random_wins <= 1


def test_prompt_shows_instruction_page_text_and_actions(env):
    obs = env.reset(3)
    assert env.goal["instruction_text"] in obs.text and "search[<your query>]" in obs.text
    result = env.step(answer(env.expert_action()))
    assert "click[Back to Search]" in result.observation.text and "Page 1" in result.observation.text
    assert result.info["page"] == "results" and result.info["action"].startswith("search[")


def test_invalid_actions_change_nothing_and_are_flagged(env):
    obs = env.reset(5)
    for text, parse_failed in [("I do not know", True), (answer("click[Buy Now]"), False),
                               ("search[]", True)]:
        result = env.step(text)
        assert (result.reward, result.terminated) == (0.0, False)
        assert not result.info["action_is_valid"] and result.info["parse_failed"] == parse_failed
        assert result.observation.text == obs.text and result.info["action"] is None
    env.step(answer("search[tea]"))
    result = env.step(answer("search[coffee]"))  # no search box on a results page
    assert not result.info["action_is_valid"] and result.info["page"] == "results"


def test_penalty_and_random_rules_and_the_step_limit():
    shop = make(NAME, num_products=300, invalid_action="penalty", max_episode_steps=3)
    try:
        shop.reset(0)
        rewards = [shop.step("??").reward for _ in range(2)]
        last = shop.step("??")
        assert rewards == [-1.0, -1.0] and last.truncated and not last.terminated
        with pytest.raises(RuntimeError, match="reset"):
            shop.step("??")
    finally:
        shop.close()
    shop = make(NAME, num_products=300, invalid_action="random")
    try:
        shop.reset(0)
        result = shop.step("??")  # the only admissible action on the search page is a search
        assert result.info["parse_failed"] and not result.info["action_is_valid"]
        assert result.info["action"].startswith("search[") and result.info["page"] == "results"
    finally:
        shop.close()
    with pytest.raises(ValueError, match="invalid_action"):
        make(NAME, invalid_action="skip")


def test_busy_port_is_avoided(env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        shop = make(NAME, num_products=300, port=port)
        try:
            assert shop._server.port != port
            assert play_expert(shop, 1).info["success"]
        finally:
            shop.close()


def test_server_that_cannot_start_gives_one_sentence(tmp_path):
    crash = "import sys; sys.stderr.write('boom: no catalogue\\n'); sys.exit(3)"
    server = ShopServer(tmp_path / "none.json", command=[sys.executable, "-c", crash])
    with pytest.raises(ServerStartError) as err:
        server.start()
    message = str(err.value)
    assert "exit code 3" in message and "boom: no catalogue" in message
    assert message.count(". ") == 0 and message.endswith(".")
    assert server.pid is None


def test_killed_or_hung_server_is_replaced_mid_episode(env):
    for sig in (signal.SIGKILL, signal.SIGSTOP):
        env._tab.page.set_default_timeout(3000)  # a hung server costs one timeout
        env.reset(7)
        env.step(answer(env.expert_action()))
        old_pid, restarts = env._server.pid, env._server.restarts
        env._server.kill(sig)
        result = env.step(answer(env.expert_action()))  # recovers and clicks the product
        assert env._server.restarts == restarts + 1 and env._server.pid != old_pid
        assert result.info["page"] == "item" and result.info["recoveries"] >= 1
        assert not os.path.exists(f"/proc/{old_pid}") or comm(old_pid) == ""
        while not (result.terminated or result.truncated):
            result = env.step(answer(env.expert_action()))
        assert result.info["success"]
    env._tab.page.set_default_timeout(20000)


def test_crashed_browser_is_relaunched(env):
    env.reset(8)
    env.step(answer(env.expert_action()))
    launches = BrowserTab.launches()
    chromium = [p for p in descendants(os.getpid()) if comm(p).startswith("chrom")]
    assert chromium
    for pid in chromium:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    result = env.step(answer(env.expert_action()))
    assert BrowserTab.launches() == launches + 1 and result.info["page"] == "item"
    assert play_expert(env, 9).info["success"]


HYGIENE = textwrap.dedent("""
    import json, os, sys, time
    sys.path.insert(0, {tests!r})
    from test_webshop_env import descendants, make
    env = make("webshop/WebShop-v0", num_products=300)
    env.reset(0)
    env.step('search[tea]')
    port, server = env._server.port, env._server.pid
    before = sorted(descendants(os.getpid()))
    if sys.argv[1] == "close":
        env.close()
        time.sleep(0.5)
    print(json.dumps({{"port": port, "server": server, "before": before,
                       "after": sorted(descendants(os.getpid()))}}), flush=True)
    if sys.argv[1] == "die":
        time.sleep(60)
""")


def port_is_closed(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("how", ["close", "die"])
def test_nothing_is_left_behind(tmp_path, how):
    """close() ends the server, Chromium and the driver; so does a SIGKILLed parent."""
    import json

    script = tmp_path / "hygiene.py"
    script.write_text(HYGIENE.format(tests=str(Path(__file__).parent)))
    proc = subprocess.Popen([sys.executable, str(script), how], stdout=subprocess.PIPE, text=True)
    report = json.loads(proc.stdout.readline())
    assert report["server"] in report["before"] and len(report["before"]) >= 3
    if how == "close":
        assert report["after"] == [] and port_is_closed(report["port"])
        assert proc.wait(timeout=30) == 0
        return
    proc.kill()
    proc.wait()
    deadline = time.time() + 15
    while time.time() < deadline and any(os.path.exists(f"/proc/{p}") and comm(p)
                                         for p in report["before"]):
        time.sleep(0.2)
    alive = [(p, comm(p)) for p in report["before"] if os.path.exists(f"/proc/{p}") and comm(p)]
    assert alive == [] and port_is_closed(report["port"])


def test_learner_smoke_two_updates(tmp_path):
    """`vldac train` on WebShop with the tiny model: env workers, prompts, images, updates."""
    pytest.importorskip("torch", reason="the learner needs torch")
    import json

    import yaml

    cfg = {
        "seed": 1, "output_dir": str(tmp_path / "run"),
        "model": {"path": "tiny:qwen2_vl", "value_head": [32],
                  "lora": {"r": 4, "alpha": 8, "dropout": 0.0}},
        "env": {"name": NAME, "num_envs": 2, "num_workers": 0,
                "kwargs": {"num_products": 100, "viewport": [256, 256], "page_text_chars": 400}},
        "rollout": {"steps_per_env": 2, "max_new_tokens": 6},
        "algo": {"warmup_updates": 1},
        "train": {"total_env_steps": 8, "lr": 1e-2, "end_lr": 1e-3, "mini_batch_size": 2,
                  "grad_accum_steps": 1, "checkpoint_every": 2},
        "log": {"dvclive": False, "progress": False},
    }
    path = tmp_path / "webshop.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run = subprocess.run([sys.executable, "-m", "vldac.cli", "train", "--config", str(path)],
                         capture_output=True, text=True, timeout=600, env=os.environ.copy())
    assert run.returncode == 0, run.stdout + run.stderr
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["update"] for r in records] == [1, 2] and records[-1]["env_steps"] == 8
    assert records[-1]["rollout/worker_restarts"] == 0.0
