"""The robot's browser: find Chromium, launch it with Playwright, one context per item or batch.

Framework code: no domain knowledge. A `BrowserSession` owns one sync Playwright
instance and one browser for one thread (Playwright's sync API is not thread-safe,
notes/environment.md), hands out a context and page, starts a trace per item
when tracing is configured, captures failure artefacts, recycles its context after
`recycle_context_after` items and Chromium itself after `recycle_browser_after` (a new context
frees the pages, not the browser's own memory), and leaves no Chromium process behind on `close()`.

Tracing is started per item and stopped at its end (not in chunks: a context's network
log spans all its chunks, so one item's trace would carry every earlier item's requests).

Secrets stay out of traces: a trace records every value typed, the page's form values
in its DOM snapshots, and request bodies, so typing a password happens inside
`with session.untraced():`, which stops the item's trace before the block (kept as a
part) and starts a new one after it. The parts of one item are merged into one
`trace.zip` (the trace viewer shows them as one timeline with a gap), see `merge_traces`.

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
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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
#: what a trace records: DOM snapshots before/after each action (what the viewer shows), no
#: screencast (a JPEG stream that costs the browser CPU on every item; `screenshot.png` shows the
#: failure), no sources (docs/decisions/0011-workers-traces-and-speed.md)
TRACE_OPTIONS = {"screenshots": False, "snapshots": True, "sources": False}
#: the entries of one trace file the viewer reads per part: `<name>.trace|.network|.stacks`
_PART_ENTRIES = ("trace.trace", "trace.network", "trace.stacks")


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
        self._tracing = False
        self._trace_parts: list[Path] = []
        self._parts_dir: Path | None = None
        self._items_in_context = 0
        self._items_in_browser = 0
        #: how many times Chromium was launched (1 + one per `recycle_browser_after` items)
        self.launches = 0
        self._thread: int | None = None

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> BrowserSession:
        """Start Playwright, find Chromium and launch it (headless per settings). Returns self."""
        if self._playwright is not None:
            return self
        self._thread = threading.get_ident()
        self._playwright = sync_playwright().start()
        try:
            self.found = choose_browser(self.settings.executable, self._playwright.chromium.executable_path)
            self._launch()
        except BaseException:
            self._stop_playwright()
            raise
        return self

    def _launch(self) -> Browser:
        """Launch Chromium (the one `start` found). Raises SystemException("browser.launch_failed")."""
        assert self._playwright is not None and self.found is not None
        try:
            browser = self._playwright.chromium.launch(
                executable_path=self.found.launch_path, headless=self.settings.headless, args=list(LAUNCH_ARGS)
            )
        except PlaywrightError as exc:
            raise SystemException("browser.launch_failed", f"Chromium did not start: {exc.message}") from exc
        self._browser, self._items_in_browser = browser, 0
        self.launches += 1
        self.version = browser.version
        log.info("browser.launched", executable=str(self.found.path), source=self.found.source,
                 version=self.version, headless=self.settings.headless, launches=self.launches)
        return browser

    def _close_browser(self) -> None:
        """Close Chromium, keeping Playwright: the next `context` launches a new one."""
        browser, self._browser = self._browser, None
        if browser is not None:
            try:
                browser.close()
            except PlaywrightError as exc:
                log.warning("browser.close_failed", error=exc.message)

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
                self._close_browser()
            finally:
                self._stop_playwright()
                if self._parts_dir is not None:
                    shutil.rmtree(self._parts_dir, ignore_errors=True)
                    self._parts_dir = None

    def _stop_playwright(self) -> None:
        if self._playwright is not None:
            try:
                self._playwright.stop()
            finally:
                self._playwright = None

    # context and page --------------------------------------------------------------------

    @property
    def context(self) -> BrowserContext:
        """The current context, created on first use (tracing starts with each item)."""
        self._check_thread()
        if self._playwright is None:
            raise RuntimeError("BrowserSession is not started")
        browser = self._browser or self._launch()  # None after a recycle: a new Chromium for the next item
        if self._context is None:
            context = browser.new_context(locale="nl-NL", timezone_id="Europe/Amsterdam")
            context.set_default_timeout(self.settings.timeout_ms)
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
        """Close the context (cookies, storage, pages, an open trace); the next use makes a new one."""
        self._check_thread()
        self._close_context()

    def _close_context(self) -> None:
        context, self._context, self._page = self._context, None, None
        self._tracing = False
        self._drop_trace_parts()
        if context is not None:
            try:
                context.close()
            except PlaywrightError as exc:
                log.warning("browser.context_close_failed", error=exc.message)

    # items -------------------------------------------------------------------------------

    def item_started(self) -> None:
        """Begin an item: with tracing on, its trace starts here."""
        context = self.context
        self._drop_trace_parts()
        if self.settings.trace != "off" and not self._tracing:
            context.tracing.start(**TRACE_OPTIONS)
            self._tracing = True

    @contextmanager
    def untraced(self) -> Iterator[None]:
        """Run the block (typing a password) with no trace recording: no actions, values, DOM or network.

        The item's trace is stopped before the block (kept as a part of the item's trace) and a new
        one starts after it. When the block raises, no new one starts for the rest of the attempt:
        the page may still hold what was typed, and a failure capture would record it. Without
        tracing, or outside an item, the block just runs.
        """
        self._check_thread()
        context = self._context
        if context is None or not self._tracing:
            yield
            return
        self._stop_as_part(context)
        yield
        if self._context is context:
            context.tracing.start(**TRACE_OPTIONS)
            self._tracing = True

    def item_finished(self, folder: Path | None = None) -> list[Path]:
        """End an item: with trace 'always' and a `folder`, save its trace there; recycle the context after
        `recycle_context_after` items, and close Chromium after `recycle_browser_after` (the next item's
        `context` launches a new one, where a failed launch is that item's SystemException). Returns the
        files written."""
        written: list[Path] = []
        if self._context is not None and (self._tracing or self._trace_parts):
            if self.settings.trace == "always" and folder is not None:
                written.append(self._save_trace(folder / TRACE))
            else:
                if self._tracing:
                    self._tracing = False
                    self._context.tracing.stop()
                self._drop_trace_parts()
        self._items_in_context += 1
        self._items_in_browser += 1
        if self._items_in_browser >= self.settings.recycle_browser_after:
            log.info("browser.recycled", items=self._items_in_browser)
            self._close_context()
            self._close_browser()  # relaunched when the next item asks for its context
        elif self._items_in_context >= self.settings.recycle_context_after:
            log.info("browser.context_recycled", items=self._items_in_context)
            self._close_context()
        return written

    def capture_failure(self, folder: Path) -> list[Path]:
        """Write `screenshot.png`, `page.html` and (when tracing) `trace.zip` of the current page into `folder`.

        The trace is saved first, so the capture's own steps are not in it. Best effort: an artefact
        that cannot be made (a crashed page) is logged and left out, never raised, so the failure
        being recorded is not hidden by another. Returns the files written.
        """
        self._check_thread()
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        if self._context is not None and (self._tracing or self._trace_parts):
            try:
                written.append(self._save_trace(folder / TRACE))
            except (PlaywrightError, OSError, zipfile.BadZipFile) as exc:
                log.warning("browser.trace_failed", error=str(exc))
        page = self._page
        if page is not None and not page.is_closed():
            self._stop_loading(page)
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
        return [p for p in (folder / SCREENSHOT, folder / PAGE_HTML, folder / TRACE) if p in written]

    def _stop_loading(self, page: Page) -> None:
        """Stop a navigation still under way (a page that did not answer in time), as the browser's stop
        button does, so the screenshot and HTML show what the page shows instead of waiting for it."""
        try:
            cdp = self.context.new_cdp_session(page)
            try:
                cdp.send("Page.stopLoading")
            finally:
                cdp.detach()
        except PlaywrightError as exc:
            log.warning("browser.stop_loading_failed", error=exc.message)

    # trace parts -------------------------------------------------------------------------

    def _stop_as_part(self, context: BrowserContext) -> None:
        if self._parts_dir is None:
            self._parts_dir = Path(tempfile.mkdtemp(prefix="softbot-trace-"))
        part = self._parts_dir / f"part-{len(self._trace_parts) + 1}.zip"
        self._tracing = False
        context.tracing.stop(path=part)
        self._trace_parts.append(part)

    def _save_trace(self, target: Path) -> Path:
        """Stop the trace and merge it with the item's earlier parts into `target`."""
        if self._tracing and self._context is not None:
            self._stop_as_part(self._context)
        parts, self._trace_parts = self._trace_parts, []
        try:
            merge_traces(parts, target)
        finally:
            for part in parts:
                part.unlink(missing_ok=True)
        return target

    def _drop_trace_parts(self) -> None:
        parts, self._trace_parts = self._trace_parts, []
        for part in parts:
            part.unlink(missing_ok=True)

    def _check_thread(self) -> None:
        if self._thread is not None and self._thread != threading.get_ident():
            raise RuntimeError("a BrowserSession is bound to the thread that started it (Playwright sync API)")


def merge_traces(parts: Sequence[Path], target: Path) -> Path:
    """Merge trace files (parts of one item, oldest first) into one `target` zip; returns `target`.

    One part is copied as it is. Several get their `trace.trace|.network|.stacks` entries renamed to
    `part<n>-trace.*`; resources (content-addressed names) are written once.
    The trace viewer loads every `<name>.trace` entry of a zip with its `.network` and `.stacks` and
    shows them on one timeline (as it does for a test's several contexts).

    Raises:
        ValueError: no parts. OSError, zipfile.BadZipFile: a part cannot be read.
    """
    if not parts:
        raise ValueError("merge_traces: no trace parts")
    target.parent.mkdir(parents=True, exist_ok=True)
    if len(parts) == 1:
        shutil.copyfile(parts[0], target)
        return target
    seen: set[str] = set()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for number, part in enumerate(parts, start=1):
            with zipfile.ZipFile(part) as zipped:
                for info in zipped.infolist():
                    name = f"part{number}-{info.filename}" if info.filename in _PART_ENTRIES else info.filename
                    if name in seen:
                        continue
                    seen.add(name)
                    out.writestr(name, zipped.read(info))
    return target


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
