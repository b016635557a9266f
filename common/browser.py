"""The robot's browser: find Chromium, launch it with Playwright, one context per item or batch.

Framework code: no domain knowledge. A `BrowserSession` owns one sync Playwright
instance and one browser for one thread (Playwright's sync API is not thread-safe,
notes/environment.md), hands out a context and page, starts a trace chunk per item
when tracing is configured, captures failure artefacts, recycles its context after
`recycle_context_after` items, and leaves no Chromium process behind on `close()`.

Which Chromium (`BrowserSettings.executable`):
- a path: that file (it must exist);
- `auto`: Playwright's own Chromium when it is installed (`playwright install chromium`),
  else the system's (`chromium`, `chromium-browser`, `google-chrome` on PATH, or
  `/usr/lib/chromium/chromium`), else `ConfigError("browser.not_found")` saying how to
  install one (`make browser`).

    python -m common.browser check      # which browser, and whether it launches (exit 0/1/2)
"""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import structlog
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from common.config import BrowserSettings
from common.errors import ConfigError, SystemException

log = structlog.get_logger(__name__)

#: Chromium flags for these machines: root without a user namespace sandbox, no GPU, no network
#: beyond the sites the robot drives (no QUIC, updates, sync or background fetches).
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome")
SYSTEM_PATHS = (Path("/usr/lib/chromium/chromium"),)
INSTALL_HINT = ("install one with `make browser` (Playwright's Chromium: `playwright install chromium`; "
                "where that cannot download: `apt-get install chromium`), or set browser.executable to a path")

#: fixed artefact names: a failure folder never carries personal data in a file name
SCREENSHOT = "screenshot.png"
PAGE_HTML = "page.html"
TRACE = "trace.zip"


@dataclass(frozen=True)
class FoundBrowser:
    """The Chromium to launch.

    Attributes:
        path: its executable.
        source: 'playwright' (Playwright's own download), 'system' (found on this machine) or
            'configured' (the path in `browser.executable`).
    """

    path: Path
    source: Literal["playwright", "system", "configured"]

    @property
    def launch_path(self) -> str | None:
        """`executable_path` for Playwright: None for its own browser (it knows where that is)."""
        return None if self.source == "playwright" else str(self.path)


def choose_browser(
    executable: str,
    playwright_executable: str | None,
    which: Callable[[str], str | None] = shutil.which,
    system_paths: tuple[Path, ...] = SYSTEM_PATHS,
) -> FoundBrowser:
    """Pick the Chromium to use (rules in the module docstring).

    Args:
        executable: `BrowserSettings.executable`: 'auto' or a path.
        playwright_executable: where Playwright's own Chromium would be (`playwright.chromium.executable_path`).
        which: PATH lookup (injected in tests).
        system_paths: fixed places to try after PATH.

    Raises:
        ConfigError("browser.not_found"): a configured path that does not exist, or no Chromium at all;
            the message says how to install one.
    """
    if executable != "auto":
        path = Path(executable)
        if not path.is_file():
            raise ConfigError("browser.not_found", f"browser.executable: {path} does not exist; {INSTALL_HINT}")
        return FoundBrowser(path, "configured")
    if playwright_executable and Path(playwright_executable).is_file():
        return FoundBrowser(Path(playwright_executable), "playwright")
    for name in SYSTEM_NAMES:
        found = which(name)
        if found:
            return FoundBrowser(Path(found), "system")
    for path in system_paths:
        if path.is_file():
            return FoundBrowser(path, "system")
    raise ConfigError("browser.not_found", f"no Chromium found; {INSTALL_HINT}")


class BrowserSession:
    """One Playwright + one Chromium for the calling thread, with a context per item or batch.

    Use as a context manager (`with BrowserSession(settings) as session:`) or call `start()` and
    `close()`. Per item: `item_started()`, work on `session.page`, then `item_finished()` on
    success or `capture_failure(folder)` + `item_finished()` on failure; `reset()` after a
    system exception gives the next attempt a clean context (cookies, storage, pages).

    Raises:
        ConfigError("browser.not_found"): from `start()`, when no Chromium can be found.
        SystemException("browser.launch_failed"): from `start()`, when Chromium does not start.
        RuntimeError: when used from another thread than the one that started it.
    """

    def __init__(self, settings: BrowserSettings | None = None) -> None:
        self.settings = settings or BrowserSettings()
        self.found: FoundBrowser | None = None
        self.version: str = ""
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._chunk_open = False
        self._items_in_context = 0
        self._thread: int | None = None

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> BrowserSession:
        """Start Playwright, find Chromium and launch it (headless per settings). Returns self."""
        if self._browser is not None:
            return self
        self._thread = threading.get_ident()
        self._playwright = sync_playwright().start()
        try:
            self.found = choose_browser(self.settings.executable, self._playwright.chromium.executable_path)
            self._browser = self._playwright.chromium.launch(
                executable_path=self.found.launch_path, headless=self.settings.headless, args=list(LAUNCH_ARGS)
            )
        except PlaywrightError as exc:
            self._stop_playwright()
            raise SystemException("browser.launch_failed", f"Chromium did not start: {exc.message}") from exc
        except BaseException:
            self._stop_playwright()
            raise
        self.version = self._browser.version
        log.info("browser.launched", executable=str(self.found.path), source=self.found.source,
                 version=self.version, headless=self.settings.headless)
        return self

    def __enter__(self) -> BrowserSession:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the context, the browser and Playwright; safe to call twice. No Chromium is left running."""
        try:
            self._close_context()
        finally:
            try:
                if self._browser is not None:
                    self._browser.close()
            except PlaywrightError as exc:
                log.warning("browser.close_failed", error=exc.message)
            finally:
                self._browser = None
                self._stop_playwright()

    def _stop_playwright(self) -> None:
        if self._playwright is not None:
            try:
                self._playwright.stop()
            finally:
                self._playwright = None

    # context and page --------------------------------------------------------------------

    @property
    def context(self) -> BrowserContext:
        """The current context, created on first use (with tracing started when configured)."""
        self._check_thread()
        if self._browser is None:
            raise RuntimeError("BrowserSession is not started")
        if self._context is None:
            context = self._browser.new_context(locale="nl-NL", timezone_id="Europe/Amsterdam")
            context.set_default_timeout(self.settings.timeout_ms)
            if self.settings.trace != "off":
                context.tracing.start(screenshots=True, snapshots=True)
                self._chunk_open = True
            self._context = context
            self._items_in_context = 0
        return self._context

    @property
    def page(self) -> Page:
        """The context's page, created on first use."""
        context = self.context
        if self._page is None or self._page.is_closed():
            self._page = context.new_page()
        return self._page

    def reset(self) -> None:
        """Close the context (cookies, storage, pages, open trace chunk); the next use makes a new one."""
        self._check_thread()
        self._close_context()

    def _close_context(self) -> None:
        context, self._context, self._page = self._context, None, None
        self._chunk_open = False
        if context is not None:
            try:
                context.close()
            except PlaywrightError as exc:
                log.warning("browser.context_close_failed", error=exc.message)

    # items -------------------------------------------------------------------------------

    def item_started(self) -> None:
        """Begin an item: with tracing on, its own trace chunk starts here."""
        context = self.context
        if self.settings.trace != "off" and not self._chunk_open:
            context.tracing.start_chunk()
            self._chunk_open = True

    def item_finished(self, folder: Path | None = None) -> list[Path]:
        """End an item: with trace 'always' and a `folder`, save its trace there; recycle the context after
        `recycle_context_after` items. Returns the files written."""
        written: list[Path] = []
        if self._context is not None and self._chunk_open:
            if self.settings.trace == "always" and folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                self._context.tracing.stop_chunk(path=folder / TRACE)
                written.append(folder / TRACE)
            else:
                self._context.tracing.stop_chunk()
            self._chunk_open = False
        self._items_in_context += 1
        if self._items_in_context >= self.settings.recycle_context_after:
            log.info("browser.context_recycled", items=self._items_in_context)
            self._close_context()
        return written

    def capture_failure(self, folder: Path) -> list[Path]:
        """Write `screenshot.png`, `page.html` and (when tracing) `trace.zip` of the current page into `folder`.

        Best effort: an artefact that cannot be made (a crashed page) is logged and left out, never
        raised, so the failure being recorded is not hidden by another. Returns the files written.
        """
        self._check_thread()
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        page = self._page
        if page is not None and not page.is_closed():
            try:
                page.screenshot(path=folder / SCREENSHOT, full_page=True)
                written.append(folder / SCREENSHOT)
            except PlaywrightError as exc:
                log.warning("browser.screenshot_failed", error=exc.message)
            try:
                (folder / PAGE_HTML).write_text(page.content(), encoding="utf-8")
                written.append(folder / PAGE_HTML)
            except PlaywrightError as exc:
                log.warning("browser.page_html_failed", error=exc.message)
        if self._context is not None and self._chunk_open:
            try:
                self._context.tracing.stop_chunk(path=folder / TRACE)
                written.append(folder / TRACE)
            except PlaywrightError as exc:
                log.warning("browser.trace_failed", error=exc.message)
            self._chunk_open = False
        return written

    def _check_thread(self) -> None:
        if self._thread is not None and self._thread != threading.get_ident():
            raise RuntimeError("a BrowserSession is bound to the thread that started it (Playwright sync API)")


def check(settings: BrowserSettings) -> tuple[bool, str]:
    """Find and launch Chromium once, open a page; returns (ok, one line for a person)."""
    try:
        with BrowserSession(settings) as session:
            session.page.set_content("<title>ok</title>")
            title = session.page.title()
            found = session.found
            mode = "headless" if settings.headless else "headed"
            where = f"{found.path} ({found.source})" if found else "?"
            return title == "ok", f"browser: {where}, version {session.version}: launched, {mode}"
    except (ConfigError, SystemException) as exc:
        return False, f"browser: {exc}"


def main(argv: list[str] | None = None) -> int:
    """`python -m common.browser check`: 0 when it launched, 1 when not, 2 for a usage or config error."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["check"]:
        print("usage: python -m common.browser check", file=sys.stderr)
        return 2
    from common.config import load_settings
    from common.logging import configure

    configure(level="WARNING")  # the one line below is the answer; log lines go to stderr
    try:
        settings = load_settings().browser
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ok, line = check(settings)
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
