"""WebShop behind the env contract: a self-hosted shop, a real headless browser, text actions.

Episode: ``reset(seed)`` picks a goal (weighted, by ``random.Random(seed)``) and opens the
shop's search page, which shows the instruction. The agent answers ``search[query]`` (only
on the search page, as in WebShop) or ``click[label]``: a button ('Back to Search',
'Next >', '< Prev', 'Description', 'Features', 'Buy Now'), a product (its asin, or its
exact title) or an option value. 'Buy Now' ends the episode with WebShop's matching score in
[0, 1] (reward.py); every other step gives 0. Success means a score of 1.

Observation: a screenshot of the viewport (``viewport``, default 512x512; ``full_page``
captures the whole page instead, at a varying height) and a prompt holding the instruction,
the page's visible text (at most ``page_text_chars``) and the available actions. The
official VL-DAC wrapper showed the screenshot only; the text is what WebShop's own agents see.

Time limit: ``max_episode_steps``, default 15 (WebShop's usual horizon; the VL-DAC YAML
asks 50, which the fork never enforced). Reaching it without buying truncates with reward 0.

invalid_action: what an unreadable answer, or an action not available on the page, does:
``"noop"`` (default): nothing happens, reward 0, ``action_is_valid=False``, the step counts
toward the limit; this matches WebShop, where an invalid action leaves the page as it was.
``"penalty"``: the same, but the step costs -1 (the penalty rule of the other envs).
``"random"``: a uniformly random admissible action is executed instead (the official VL-DAC
fallback), drawn from an RNG seeded by ``reset``, so replays repeat it.

Processes: the shop server (server.py) is shared by the envs of one process with the same
catalogue and search settings; the browser (browser.py) likewise. Every page is a function
of its URL, so when the server or Chromium dies or hangs mid-episode, the step detects it
(a failed or timed-out page load, a failed health check), restarts what died, reloads the
current page and applies the action again: the episode goes on unchanged. ``info`` counts
such recoveries. If the retry fails too, the step raises RuntimeError and the next reset
starts afresh. ``close()`` stops the server and, with the last env, Chromium.
"""

from __future__ import annotations

import atexit
import logging
import operator
import random
import urllib.parse

from vldac.envs.base import Env, Observation, StepResult
from vldac.envs.webshop.actions import match_label, parse_action
from vldac.envs.webshop.browser import BrowserTab, PlaywrightError
from vldac.envs.webshop.catalogue import load_catalogue
from vldac.envs.webshop.expert import expert_action
from vldac.envs.webshop.search import SEARCH_BACKENDS
from vldac.envs.webshop.server import ServerStartError, ShopServer

__all__ = ["WebShopEnv"]

_log = logging.getLogger(__name__)
INVALID_ACTION_RULES = ("noop", "penalty", "random")
PENALTY_REWARD = -1.0
SUCCESS_REWARD = 1.0 - 1e-9
# Shared servers: {key: [server, users]}; the key covers everything the server is built from.
_SERVERS: dict[tuple, list] = {}


@atexit.register
def _stop_servers() -> None:
    """Stop servers of envs that were never closed (the children would die with us anyway,
    through PR_SET_PDEATHSIG; this frees their ports first)."""
    for server, _users in list(_SERVERS.values()):
        server.stop(force=True)
    _SERVERS.clear()


def _acquire_server(key: tuple, **kwargs) -> ShopServer:
    entry = _SERVERS.get(key)
    if entry is None:
        server = ShopServer(**kwargs)
        server.start()
        entry = _SERVERS[key] = [server, 0]
    entry[1] += 1
    return entry[0]


def _release_server(key: tuple) -> None:
    entry = _SERVERS.get(key)
    if entry is not None:
        entry[1] -= 1
        if entry[1] <= 0:
            del _SERVERS[key]
            entry[0].stop()


class WebShopEnv(Env):
    """The shop world; see the module docstring for the rules and the process model."""

    name = "webshop/WebShop-v0"

    def __init__(self, *, data_dir: str | None = None, num_products: int | None = None,
                 catalogue_seed: int = 0, human_goals: bool = True, search: str = "bm25",
                 product_window: int = 10, viewport: tuple[int, int] | list[int] = (512, 512),
                 full_page: bool = False, max_episode_steps: int = 15,
                 invalid_action: str = "noop", page_text_chars: int = 2000,
                 port: int | None = None, timeout_s: float = 20.0,
                 chromium: str = "/usr/bin/chromium") -> None:
        if isinstance(max_episode_steps, bool) or not isinstance(max_episode_steps, int) \
                or max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be a positive integer, got {max_episode_steps!r}.")
        if invalid_action not in INVALID_ACTION_RULES:
            raise ValueError(f"invalid_action must be one of {list(INVALID_ACTION_RULES)}, "
                             f"got {invalid_action!r}.")
        if search not in SEARCH_BACKENDS:
            raise ValueError(f"search must be one of {list(SEARCH_BACKENDS)}, got {search!r}.")
        self.max_episode_steps = max_episode_steps
        self.invalid_action = invalid_action
        self.full_page = full_page
        self.page_text_chars = page_text_chars
        self.catalogue = load_catalogue(data_dir, seed=catalogue_seed, num_products=num_products,
                                        human_goals=human_goals)
        self._weights = [g.get("weight", 1.0) for g in self.catalogue.goals]
        index_dir = str(self.catalogue.path.with_suffix(".lucene")) if search == "lucene" else None
        self._server_key = (str(self.catalogue.path), search, product_window, port)
        self._server = _acquire_server(
            self._server_key, catalogue_path=self.catalogue.path, search=search,
            product_window=product_window, index_dir=index_dir, port=port)
        self._tab: BrowserTab | None = None
        try:
            self._tab = BrowserTab(viewport=tuple(viewport), executable=chromium, timeout_s=timeout_s)
        except BaseException:
            self.close()
            raise
        self.goal_index: int | None = None
        self.goal: dict | None = None
        self.recoveries = 0
        self._path = ""  # the current page, relative to the server (survives a restart)
        self._steps = 0
        self._done = True
        self._page: dict = {}
        self._labels: list[str] = []
        self._has_search = False
        self._text = ""
        self._image = None

    # ----- the contract --------------------------------------------------------------------

    def reset(self, seed: int) -> Observation:
        """Pick the goal from ``seed`` and open the search page."""
        rng = random.Random(operator.index(seed))
        self.goal_index = rng.choices(range(len(self.catalogue.goals)), self._weights)[0]
        self._rng = rng  # the "random" invalid-action rule draws from it
        self.goal = self.catalogue.goals[self.goal_index]
        self._steps, self._done = 0, False
        self._path = f"/s/{self.goal_index}/"
        self._run(lambda: self._tab.goto(self._server.base_url + self._path))
        return self._observe()

    def step(self, text: str) -> StepResult:
        """Parse ``text``, act in the browser (or apply the invalid-action rule), report."""
        self._check_can_step(started=self.goal is not None, done=self._done)
        self._steps += 1
        parsed = parse_action(text)
        parse_failed = parsed is None
        act = self._resolve(parsed)
        valid = act is not None
        if not valid and self.invalid_action == "random":
            parsed = parse_action(self._rng.choice(self.admissible_actions()))
            act = self._resolve(parsed)
        reward, terminated, executed = 0.0, False, None
        if act is None:
            reward = PENALTY_REWARD if self.invalid_action == "penalty" else 0.0
        else:
            executed = f"{parsed[0]}[{act[1]}]"
            self._run(act[0])
            self._path = self._current_path()
            if self._page.get("page") == "done":
                reward, terminated = float(self._page["reward"]), True
        truncated = not terminated and self._steps >= self.max_episode_steps
        self._done = terminated or truncated
        info = {"success": terminated and reward >= SUCCESS_REWARD, "action_is_valid": valid,
                "parse_failed": parse_failed, "action": executed, "goal_index": self.goal_index,
                "page": self._page.get("page"), "recoveries": self.recoveries,
                "server_restarts": self._server.restarts}
        return StepResult(self._observe(), reward, terminated, truncated, info)

    def expert_action(self) -> str:
        """The oracle's next action (expert.py): search the goal, take it, pick options, buy."""
        if self.goal is None or self._done:
            raise RuntimeError(f"{self.name}: no episode in progress; call reset(seed).")
        return expert_action(self.catalogue, self.goal, self._page, self._labels,
                             self._has_search)

    def close(self) -> None:
        """Close this env's tab and release the server (stopped when no env uses it)."""
        tab, self._tab = getattr(self, "_tab", None), None
        try:
            if tab is not None:
                tab.close()
        finally:
            if getattr(self, "_server_key", None) in _SERVERS:
                _release_server(self._server_key)
                self._server_key = None

    # ----- acting ---------------------------------------------------------------------------

    def _resolve(self, parsed):
        """(callable that performs the action, canonical argument), or None if unavailable."""
        if parsed is None:
            return None
        kind, arg = parsed
        if kind == "search":
            return (lambda: self._tab.search(arg), arg) if self._has_search else None
        index = match_label(arg, self._labels, self._page.get("titles", {}))
        if index is None:
            return None
        return (lambda: self._tab.click(index), self._labels[index])

    def _run(self, action) -> None:
        """Do ``action`` in the browser, then read the page; on failure recover and retry once."""
        try:
            action()
            self._read_page()
            return
        except (PlaywrightError, OSError) as exc:
            _log.warning("WebShop step failed (%s); checking the server and the browser", exc)
        try:
            self._recover()
            action()
            self._read_page()
        except (PlaywrightError, OSError, ServerStartError) as exc:
            raise RuntimeError(
                f"{self.name}: the shop or the browser failed twice in a row ({exc}); "
                "the episode is lost, call reset(seed) to start a new one.") from exc

    def _recover(self) -> None:
        self.recoveries += 1
        self._server.ensure_healthy()
        if not self._tab.ensure_alive():
            self._tab.reopen()  # the page may be stuck on a half-loaded navigation
        self._tab.goto(self._server.base_url + self._path)

    def _read_page(self) -> None:
        found = self._tab.read()
        self._page, self._labels = found["state"], found["labels"]
        self._has_search, self._text = found["search"], found["text"]
        self._image = self._tab.screenshot(self.full_page)

    def _current_path(self) -> str:
        url = urllib.parse.urlsplit(self._tab.page.url)
        return url.path + (f"?{url.query}" if url.query else "")

    # ----- observation ----------------------------------------------------------------------

    def available_actions(self) -> list[str]:
        """The actions the current page offers, as the prompt lists them."""
        actions = ["search[<your query>]"] if self._has_search else []
        return actions + [f"click[{label}]" for label in self._labels]

    def admissible_actions(self) -> list[str]:
        """Concrete actions valid on the current page (the search is the instruction itself);
        used by the "random" rule and by ``vldac env check``'s random policy."""
        search = [f"search[{self.goal['instruction_text']}]"] if self._has_search else []
        return search + [f"click[{label}]" for label in self._labels]

    def _observe(self) -> Observation:
        text = self._text
        if len(text) > self.page_text_chars:
            text = text[: self.page_text_chars] + " ..."
        prompt = (
            "You are shopping on a website in a web browser; the image is a screenshot of the "
            "current page. Buy the product that matches the instruction as closely as possible: "
            "search for it, open a product, choose its options, then click Buy Now.\n"
            f"Instruction: {self.goal['instruction_text']}\n"
            f"Page text:\n{text}\n"
            f"Available actions:\n" + "\n".join(self.available_actions()) + "\n"
            "Answer with JSON only: "
            '{"thoughts": "<your reasoning>", "action": "<one available action>"}'
        )
        return Observation(text=prompt, images=[self._image])
