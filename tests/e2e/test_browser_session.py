"""BrowserSession with a real headless Chromium: artefacts, tracing, recycling, and no Chromium left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path

import pytest

from common.browser import BrowserSession
from common.config import BrowserSettings
from sandbox.processes import chromium_descendants, wait_until_gone

pytestmark = pytest.mark.browser

PAGE = "<title>Zaak</title><h1>Documenten toevoegen</h1><p>Bezig</p>"


def test_capture_failure_writes_screenshot_html_and_trace_with_fixed_names(tmp_path: Path) -> None:
    with BrowserSession(BrowserSettings(trace="on_failure")) as session:
        session.item_started()
        session.page.set_content(PAGE)

        written = session.capture_failure(tmp_path / "failures" / "item-17")

    assert [p.name for p in written] == ["screenshot.png", "page.html", "trace.zip"]
    folder = tmp_path / "failures" / "item-17"
    assert (folder / "screenshot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<h1>Documenten toevoegen</h1>" in (folder / "page.html").read_text(encoding="utf-8")
    assert zipfile.is_zipfile(folder / "trace.zip")


def test_without_tracing_a_failure_has_no_trace(tmp_path: Path) -> None:
    with BrowserSession(BrowserSettings(trace="off")) as session:
        session.page.set_content(PAGE)
        written = session.capture_failure(tmp_path)
    assert [p.name for p in written] == ["screenshot.png", "page.html"]


def test_trace_always_saves_each_items_trace(tmp_path: Path) -> None:
    with BrowserSession(BrowserSettings(trace="always")) as session:
        for n in (1, 2):
            session.item_started()
            session.page.set_content(PAGE)
            session.item_finished(tmp_path / f"item-{n}")
    assert zipfile.is_zipfile(tmp_path / "item-1" / "trace.zip")
    assert zipfile.is_zipfile(tmp_path / "item-2" / "trace.zip")


def test_the_context_is_recycled_after_n_items_and_reset_clears_cookies() -> None:
    with BrowserSession(BrowserSettings(trace="off", recycle_context_after=2)) as session:
        first = session.context
        session.context.add_cookies([{"name": "zaaksysteem_sessie", "value": "x", "url": "http://127.0.0.1/"}])
        session.item_finished()
        assert session.context is first          # 1 item: same context
        session.item_finished()
        second = session.context                 # 2 items: recycled
        assert second is not first
        assert second.cookies() == []
        second.add_cookies([{"name": "a", "value": "b", "url": "http://127.0.0.1/"}])
        session.reset()
        assert session.context.cookies() == []



def test_chromium_itself_is_restarted_after_n_items_and_the_old_one_ends() -> None:
    # a new context frees the pages but not the browser's own memory (bench/results/registration.md)
    others = chromium_descendants(os.getpid())  # browsers of other tests' fixtures, if any
    with BrowserSession(BrowserSettings(trace="on_failure", recycle_context_after=1,
                                        recycle_browser_after=2)) as session:
        session.item_started()
        first_browsers = chromium_descendants(os.getpid()) - others
        assert first_browsers
        session.item_finished()
        session.item_started()
        session.page.set_content("<h1>twee</h1>")
        session.item_finished()                                     # 2 items: this Chromium is done
        assert session.launches == 1
        assert wait_until_gone(first_browsers) == set()
        session.item_started()                                      # the next item launches a new one
        assert session.launches == 2
        session.page.set_content("<h1>drie</h1>")
        assert session.page.locator("h1").inner_text() == "drie"
        assert chromium_descendants(os.getpid()).isdisjoint(first_browsers)
        session.item_finished()

def test_a_session_refuses_another_thread() -> None:
    errors: list[BaseException] = []
    with BrowserSession(BrowserSettings(trace="off")) as session:
        worker = threading.Thread(target=lambda: _touch(session, errors))
        worker.start()
        worker.join()
    assert [type(e) for e in errors] == [RuntimeError]


def _touch(session: BrowserSession, errors: list[BaseException]) -> None:
    try:
        session.reset()
    except RuntimeError as exc:
        errors.append(exc)


def test_close_leaves_no_chromium_process() -> None:
    before = chromium_descendants(os.getpid())
    session = BrowserSession(BrowserSettings(trace="off")).start()
    session.page.set_content(PAGE)
    ours = chromium_descendants(os.getpid()) - before
    assert ours, "the launched Chromium should show up as our descendant"

    session.close()
    session.close()  # twice is fine

    assert wait_until_gone(ours) == set()


OWNER = textwrap.dedent("""
    import sys, time
    from common.browser import BrowserSession
    from common.config import BrowserSettings
    session = BrowserSession(BrowserSettings(trace="always")).start()
    session.page.set_content("<h1>bezig</h1>")
    print("ready", flush=True)
    time.sleep(120)
""")


def test_no_chromium_is_left_when_the_owning_process_gets_sigterm() -> None:
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    try:
        assert owner.stdout is not None
        assert any(line.strip() == "ready" for line in iter(owner.stdout.readline, "")), "no browser started"
        browsers = chromium_descendants(owner.pid)
        assert browsers

        owner.send_signal(signal.SIGTERM)
        owner.wait(timeout=30)

        assert wait_until_gone(browsers) == set()
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


def test_the_check_command_reports_the_browser_it_launched() -> None:
    done = subprocess.run([sys.executable, "-m", "common.browser", "check"], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert "launched, headless" in done.stdout
