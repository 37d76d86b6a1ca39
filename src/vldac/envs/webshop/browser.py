"""A headless Chromium tab driven by Playwright, for the shop's pages.

Playwright's sync API allows one driver per thread, so all envs in a process share one
driver and one Chromium (reference-counted); each env gets its own browser context (a
private profile) and page. Chromium is Debian's (``/usr/bin/chromium``): Playwright's own
browser download is never needed. The last tab to close stops the driver, which ends
Chromium and the driver's node process.

A Chromium that crashed or was killed is detected (``is_connected()``) and launched again
by :meth:`BrowserTab.ensure_alive`; a crashed page is replaced the same way.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

__all__ = ["BrowserTab", "PlaywrightError"]

_log = logging.getLogger(__name__)
# Fixed rendering: no GPU, no font hinting, sRGB, no scrollbars, so pixels repeat.
_CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--font-render-hinting=none", "--force-color-profile=srgb", "--hide-scrollbars",
                  "--disable-lcd-text", "--disable-extensions"]


class _Runtime:
    """The process-wide Playwright driver and Chromium, shared by every tab."""

    def __init__(self) -> None:
        self.playwright = None
        self.browser = None
        self.users = 0
        self.launches = 0

    def browser_for(self, executable: str):
        """A connected Chromium, starting the driver or relaunching Chromium as needed."""
        if not Path(executable).is_file():
            raise FileNotFoundError(
                f"Chromium not found at {executable}; install it with `apt-get install chromium` "
                "or pass chromium=<path>.")
        if self.playwright is None:
            self.playwright = sync_playwright().start()
        if self.browser is None or not self.browser.is_connected():
            if self.browser is not None:
                _log.warning("Chromium disconnected (crashed or killed); launching it again")
            self.browser = self.playwright.chromium.launch(
                executable_path=executable, headless=True, args=_CHROMIUM_ARGS)
            self.launches += 1
        return self.browser

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0:
            self.users = 0
            browser, playwright = self.browser, self.playwright
            self.browser = self.playwright = None
            try:
                if browser is not None and browser.is_connected():
                    browser.close()
            finally:
                if playwright is not None:
                    playwright.stop()


_RUNTIME = _Runtime()
_READ_PAGE = """() => ({
  state: (document.getElementById('shop-state') || {}).textContent || null,
  labels: Array.from(document.querySelectorAll('[data-click]'), e => e.dataset.click),
  search: document.getElementById('search-input') !== null,
  text: document.body.innerText,
})"""


class BrowserTab:
    """One page of the shared Chromium with a fixed viewport; all waits bounded by timeout_s."""

    def __init__(self, *, viewport: tuple[int, int] = (512, 512), executable: str =
                 "/usr/bin/chromium", timeout_s: float = 20.0) -> None:
        self.viewport = {"width": int(viewport[0]), "height": int(viewport[1])}
        self.executable = executable
        self.timeout_ms = timeout_s * 1000
        self._context = None
        self.page = None
        self._closed = False
        _RUNTIME.users += 1
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    @staticmethod
    def launches() -> int:
        """How many times this process launched Chromium (a relaunch after a crash counts)."""
        return _RUNTIME.launches

    def _open(self) -> None:
        browser = _RUNTIME.browser_for(self.executable)
        self._context = browser.new_context(viewport=self.viewport, device_scale_factor=1,
                                            reduced_motion="reduce", java_script_enabled=True)
        self.page = self._context.new_page()
        self.page.set_default_timeout(self.timeout_ms)

    def ensure_alive(self) -> bool:
        """Reopen the page (relaunching Chromium if needed); return True if anything was
        replaced. The caller must navigate again afterwards."""
        browser = _RUNTIME.browser
        if browser is not None and browser.is_connected() and self.page and not self.page.is_closed():
            return False
        try:
            if self._context is not None and browser is not None and browser.is_connected():
                self._context.close()
        except PlaywrightError:
            pass
        self._open()
        return True

    def reopen(self) -> None:
        """Throw the page away and open a fresh one (after an error of unknown cause)."""
        try:
            if self._context is not None:
                self._context.close()
        except PlaywrightError:
            pass
        self._context = self.page = None
        self._open()

    # ----- navigation ----------------------------------------------------------------------

    def goto(self, url: str) -> None:
        self.page.goto(url, wait_until="load")

    def click(self, index: int) -> None:
        """Click the ``index``-th ``[data-click]`` element and wait for the next page to load.

        The click is the DOM's ``click()`` (the browser follows the link itself); Playwright's
        mouse click adds actionability checks that cost ~150 ms a step and buy nothing on
        pages without overlays or animations.
        """
        with self.page.expect_navigation(wait_until="load"):
            self.page.evaluate("i => document.querySelectorAll('[data-click]')[i].click()", index)

    def search(self, query: str) -> None:
        """Type ``query`` into the search box and submit the form with its button."""
        self.page.fill("#search-input", query)
        with self.page.expect_navigation(wait_until="load"):
            self.page.evaluate("() => document.getElementById('search-button').click()")

    # ----- reading the page ----------------------------------------------------------------

    def read(self) -> dict:
        """Everything the env needs from the page in one round trip: ``state`` (the page's
        ``#shop-state`` JSON), ``labels`` (the ``data-click`` labels in page order),
        ``search`` (whether a search box is shown) and ``text`` (the visible text)."""
        found = self.page.evaluate(_READ_PAGE)
        found["state"] = json.loads(found["state"] or "{}")
        return found

    def labels(self) -> list[str]:
        """The ``data-click`` labels of the clickable elements, in page order."""
        return self.page.eval_on_selector_all("[data-click]", "els => els.map(e => e.dataset.click)")

    def has_search_box(self) -> bool:
        return self.page.locator("#search-input").count() > 0

    def state(self) -> dict:
        """The page's ``#shop-state`` JSON (page kind, asins, options, reward)."""
        return json.loads(self.page.locator("#shop-state").text_content())

    def text(self) -> str:
        """The page's visible text, as a reader would copy it."""
        return self.page.inner_text("body")

    def screenshot(self, full_page: bool = False) -> Image.Image:
        """An RGB screenshot of the viewport (or of the whole page)."""
        png = self.page.screenshot(type="png", full_page=full_page, animations="disabled",
                                   caret="hide")
        return Image.open(io.BytesIO(png)).convert("RGB")

    def close(self) -> None:
        """Close this tab; the last tab in the process stops Chromium and the driver."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._context is not None and _RUNTIME.browser and _RUNTIME.browser.is_connected():
                self._context.close()
        except PlaywrightError:
            pass
        finally:
            self._context = self.page = None
            _RUNTIME.release()
