"""A Playwright trace never holds the case-system password: the login runs untraced.

A trace records each value typed (and form values in its DOM snapshots, and request bodies),
so `register_case` types the password inside `BrowserSession.untraced()`. These tests unzip
the trace of a registration that logged in twice (the session expires on the way) and look for
the password in every entry; the control test shows the same search finds it without untraced.
"""

from __future__ import annotations

import zipfile
from contextlib import nullcontext
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from pydantic import SecretStr

from common.browser import BrowserSession, merge_traces
from common.config import BrowserSettings
from sandbox.casesystem.testing import RunningCaseSystem
from tonk_bot.casesystem import CaseDraft, CaseSystemAccount, PersonDraft, register_case

pytestmark = pytest.mark.browser

BSN = "176543211"  # 11-proof (the sandbox checks): 1*9+7*8+6*7+5*6+4*5+3*4+2*3+1*2-1*1 = 176 = 16*11


def draft(reference: str) -> CaseDraft:
    person = PersonDraft(bsn=BSN, voornamen="Ayşe", achternaam="Çelik", geboortedatum=date(1984, 2, 29),
                         straat="Rede", huisnummer="12", postcode="8251 EH", woonplaats="Dronten")
    return CaseDraft(reference=reference, startdatum=date(2021, 8, 12), kanaal="e-formulier", initiator=person,
                     inkomen_oud=Decimal("2000.00"), inkomen_nieuw=Decimal("1400.00"), huur=Decimal("650.00"),
                     maanden=("juli",), iban="NL91ABNA0417164300", rekeninghouder="A. Çelik", note="advies")


def trace_bytes(trace: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(trace) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def holding(entries: dict[str, bytes], secret: str) -> list[str]:
    """Entries that contain `secret` as typed or form-encoded."""
    needles = {secret.encode(), quote_plus(secret).encode()}
    return sorted(name for name, data in entries.items() if any(n in data for n in needles))


def register_and_capture(casesystem: RunningCaseSystem, folder: Path, reference: str, *, untraced: bool) -> Path:
    account = CaseSystemAccount(url=casesystem.url, username=casesystem.username,
                                password=SecretStr(casesystem.password))
    casesystem.set_faults(session_expiry_requests=10)  # a second login halfway
    try:
        with BrowserSession(BrowserSettings(trace="on_failure", timeout_ms=10_000)) as session:
            session.item_started()
            register_case(session.page, draft(reference), before_submit=lambda: None, account=account,
                          untraced=session.untraced if untraced else nullcontext)
            files = session.capture_failure(folder)  # as after a failed attempt: the item's whole trace
    finally:
        casesystem.set_faults()
    assert [f.name for f in files] == ["screenshot.png", "page.html", "trace.zip"]
    return folder / "trace.zip"


def test_a_trace_of_a_registration_with_two_logins_holds_no_password(
        casesystem: RunningCaseSystem, tmp_path: Path) -> None:
    trace = register_and_capture(casesystem, tmp_path, "OF-TRCPW1", untraced=True)

    entries = trace_bytes(trace)
    assert holding(entries, casesystem.password) == []
    # the trace is real: three parts (before the first login, between the logins, after the second),
    # and the steps after logging in are in it with the values typed
    assert sorted(n for n in entries if n.endswith(".trace")) == [
        "part1-trace.trace", "part2-trace.trace", "part3-trace.trace"]
    assert holding(entries, "OF-TRCPW1")


def test_without_untraced_the_same_search_finds_the_password(casesystem: RunningCaseSystem, tmp_path: Path) -> None:
    trace = register_and_capture(casesystem, tmp_path, "OF-TRCPW2", untraced=False)

    assert holding(trace_bytes(trace), casesystem.password)  # the check above can see a password


def test_merged_parts_keep_each_parts_entries_and_share_resources(tmp_path: Path) -> None:
    parts = []
    for n, body in enumerate((b"first", b"second"), start=1):
        part = tmp_path / f"p{n}.zip"
        with zipfile.ZipFile(part, "w") as zipped:
            zipped.writestr("trace.trace", b'{"type":"context-options"}\n' + body)
            zipped.writestr("trace.network", b"")
            zipped.writestr("trace.stacks", b"{}")
            zipped.writestr("resources/abc", b"shared")
        parts.append(part)

    merged = trace_bytes(merge_traces(parts, tmp_path / "out" / "trace.zip"))

    assert sorted(merged) == ["part1-trace.network", "part1-trace.stacks", "part1-trace.trace",
                              "part2-trace.network", "part2-trace.stacks", "part2-trace.trace", "resources/abc"]
    assert merged["part2-trace.trace"].endswith(b"second")
