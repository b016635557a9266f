"""Benchmark: TONK registrations per minute through the case system's web UI, and memory over 1,000 items.

    .venv/bin/python bench/bench_registration.py --write    # the whole run (about an hour on 2 cores)
    .venv/bin/python bench/bench_registration.py --quick    # a few items each: checks the script itself

Everything in one run, each part against its own fresh sandbox case system (no faults; the
kenmerk search answers after its 500 ms, as always) and its own softbot data folder, with the
same generated applications (all valid, seeded):

1. the framework, 1, 2 and 4 workers: `softbot intake tonk` (not timed), then
   `softbot run tonk --workers N` (config as shipped: trace on_failure, 1 run lock, SQLite).
   Rate = items done per minute between the first reservation and the last completion (from the
   queue's events: the browser start and the report at the end are outside it);
2. the framework, 1 worker, `browser.trace: off`: what recording a trace per item costs;
3. bare Playwright: the same clicks for the same applications in a plain script: no work queue,
   no page objects, no checks beyond waiting for the next screen, no trace; one browser. The
   framework overhead is the bare rate over the framework's 1-worker rate;
4. memory: the 4-worker run has 1,000 items. Every second the softbot process and everything
   below it are read from /proc: RSS of the Python process, and RSS and PSS (proportional: shared
   pages split among the processes sharing them) of the browsers (Playwright's driver and every
   Chromium process). After the run has ended, the Chromium processes seen during it that are
   still alive are counted.

The machine is shared by several engineers, so the load average is recorded at the start and the
end of each part. Data generation, intake and the sandboxes' start are outside every timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import Page  # noqa: E402
from playwright.sync_api import expect as pw_expect  # noqa: E402

from common.browser import BrowserSession  # noqa: E402
from common.config import BrowserSettings  # noqa: E402
from common.db import Database  # noqa: E402
from common.storage import BlobStore  # noqa: E402
from common.workqueue import WorkQueue  # noqa: E402
from common.workqueue.listing import list_items  # noqa: E402
from sandbox.casesystem.testing import RunningCaseSystem, running_casesystem  # noqa: E402
from sandbox.processes import descendants, is_live_chromium  # noqa: E402
from tonk_bot.case_draft import case_draft, documents_of  # noqa: E402
from tonk_bot.casesystem.draft import CaseDraft, PersonDraft  # noqa: E402
from tonk_bot.consumer import date_received, document_refs  # noqa: E402
from tonk_bot.intake import evaluate  # noqa: E402
from tonk_bot.policy import load_policies, select_policy  # noqa: E402

SOFTBOT = Path(sys.executable).with_name("softbot")
POLICIES = REPO / "config" / "policies"
RESULTS = REPO / "bench" / "results" / "registration.md"
SEED = 4242


# -- a softbot deployment against a sandbox ---------------------------------------------------------

@dataclass
class Deployment:
    root: Path
    env: dict[str, str]
    maildir: Path
    data_dir: Path

    def softbot(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(SOFTBOT), *args], cwd=self.root, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"softbot {' '.join(args)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done

    def queue(self) -> tuple[Database, WorkQueue]:
        db = Database(f"sqlite:///{self.data_dir / 'softbot.db'}")
        return db, WorkQueue(db, "tonk", BlobStore(self.data_dir / "blobs"))


def deploy(root: Path, casesystem: RunningCaseSystem, trace: str = "on_failure") -> Deployment:
    data_dir = root / "data"
    maildir = data_dir / "mailbox" / "tonk"
    maildir.parent.mkdir(parents=True, exist_ok=True)
    config = root / "softbot.yaml"
    config.write_text(f"""
data_dir: "{data_dir}"
runs_dir: "{root / 'runs'}"
browser: {{headless: true, trace: "{trace}"}}
bots:
  tonk:
    sources: [{{kind: maildir, name: postbus, path: "{maildir}"}}]
    casesystem: {{url: "{casesystem.url}", username: {casesystem.username}, password_env: SB_PASSWORD}}
    options: {{municipality: dronten, policies_dir: "{POLICIES}"}}
""", encoding="utf-8")
    env = {**os.environ, "SOFTBOT_CONFIG": str(config), "SB_PASSWORD": casesystem.password}
    return Deployment(root=root, env=env, maildir=maildir, data_dir=data_dir)


def deliver(maildir: Path, count: int) -> None:
    """`count` valid generated applications into `maildir` (the same ones for every part: one seed)."""
    subprocess.run([sys.executable, "-m", "sandbox.samples", "generate", "--count", str(count), "--seed", str(SEED),
                    "--faulty-share", "0", "--others", "0", "--maildir", str(maildir)], check=True,
                   capture_output=True, cwd=REPO)


# -- measuring ---------------------------------------------------------------------------------------

def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


@dataclass
class Rate:
    """A measured rate: `items` registered in `seconds` (first reservation to last completion)."""

    what: str
    workers: int
    items: int
    seconds: float
    wall_seconds: float
    load_start: str
    load_end: str
    command: str

    @property
    def per_minute(self) -> float:
        return 60 * self.items / self.seconds


def queue_span(deployment: Deployment) -> tuple[int, float]:
    """(items done, seconds from the first reservation to the last completion), from the events."""
    db, queue = deployment.queue()
    try:
        items = list_items(db, queue="tonk", limit=1_000_000)
        starts, ends = [], []
        for item in items:
            for event in queue.history(item.id):
                if event.reason == "reserved":
                    starts.append(event.at)
                elif event.reason == "completed":
                    ends.append(event.at)
        done = sum(1 for i in items if i.state.value == "done")
        if done != len(items):
            raise RuntimeError(f"only {done} of {len(items)} items were registered")
        return done, (max(ends) - min(starts)).total_seconds()
    finally:
        db.dispose()


@dataclass
class TreeSample:
    at: float
    done: int
    python_rss: int
    browser_rss: int
    browser_pss: int
    chromium: int


@dataclass
class TreeWatch:
    """Samples the process tree below `pid` every second until stopped (see the module docstring)."""

    pid: int
    deployment: Deployment
    samples: list[TreeSample] = field(default_factory=list)
    chromium_seen: set[int] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> TreeWatch:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        db, _queue = self.deployment.queue()
        last_count, done = 0.0, 0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now - last_count > 5:
                    done = sum(1 for i in list_items(db, queue="tonk", limit=1_000_000) if i.state.value == "done")
                    last_count = now
                python_rss = _status_kb(self.pid, "VmRSS")
                browser_rss = browser_pss = chromium = 0
                for child in descendants(self.pid):
                    exe = _exe(child)
                    if "chrom" in exe:
                        chromium += 1
                        self.chromium_seen.add(child)
                    elif "node" not in exe:
                        continue
                    browser_rss += _status_kb(child, "VmRSS")
                    browser_pss += _pss_kb(child)
                if python_rss:
                    self.samples.append(TreeSample(now, done, python_rss, browser_rss, browser_pss, chromium))
                self._stop.wait(1.0)
        finally:
            db.dispose()


def _exe(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# -- the parts ---------------------------------------------------------------------------------------

def framework(root: Path, items: int, workers: int, trace: str = "on_failure", watch: bool = False
              ) -> tuple[Rate, TreeWatch | None]:
    """`softbot intake` then `softbot run --workers N` against a fresh sandbox; the rate (and the watch)."""
    root.mkdir(parents=True)
    with running_casesystem(root / "zaaksysteem.db") as casesystem:
        deployment = deploy(root, casesystem, trace=trace)
        deliver(deployment.maildir, items)
        deployment.softbot("intake", "tonk")
        command = ["run", "tonk", "--workers", str(workers)]
        load_start, started = load(), time.monotonic()
        process = subprocess.Popen([str(SOFTBOT), *command], cwd=deployment.root, env=deployment.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watcher = TreeWatch(process.pid, deployment).start() if watch else None
        try:
            out, err = process.communicate()
        except BaseException:  # the bench is stopped (Ctrl-C, SIGTERM): stop the run, not leave it orphaned
            process.terminate()
            process.wait(timeout=120)
            raise
        wall = time.monotonic() - started
        if watcher:
            watcher.stop()
        if process.returncode != 0:
            raise RuntimeError(f"softbot {' '.join(command)}: exit {process.returncode}\n{out}\n{err}")
        done, seconds = queue_span(deployment)
    what = f"framework, {workers} worker{'s' if workers > 1 else ''}" + ("" if trace != "off" else ", trace off")
    return Rate(what, workers, done, seconds, wall, load_start, load(),
                f"softbot {' '.join(command)}" + ("" if trace != "off" else "  (browser.trace: off)")), watcher


def drafts_of(deployment: Deployment) -> list[CaseDraft]:
    """The case drafts the consumer would make of the queue's items (judged as it does)."""
    db, queue = deployment.queue()
    policies = load_policies(POLICIES)
    drafts = []
    try:
        for listed in sorted(list_items(db, queue="tonk", limit=1_000_000), key=lambda i: i.id):
            item = queue.get(listed.id)
            received = date_received(item)
            policy = select_policy(policies, received, "dronten")
            result = evaluate(item.fields, document_refs(item), received, policy, None)
            assert result.application is not None, item.reference
            drafts.append(case_draft(item, result.application, received, "e-formulier", result.note() or "",
                                     documents_of(item, queue.blobs)))
    finally:
        db.dispose()
    return drafts


def bare(root: Path, items: int) -> Rate:
    """The same registrations, clicked by a plain Playwright script (see `bare_register`)."""
    root.mkdir(parents=True)
    with running_casesystem(root / "zaaksysteem.db") as casesystem:
        deployment = deploy(root, casesystem)
        deliver(deployment.maildir, items)
        deployment.softbot("intake", "tonk")  # only to build the same drafts
        drafts = drafts_of(deployment)
        with BrowserSession(BrowserSettings(trace="off")) as session:
            page = session.page
            page.goto(casesystem.url)
            page.get_by_label("Gebruikersnaam").fill(casesystem.username)
            page.get_by_label("Wachtwoord").fill(casesystem.password)
            page.get_by_role("button", name="Inloggen").click()
            pw_expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_visible()
            load_start, started = load(), time.monotonic()
            for draft in drafts:
                bare_register(page, draft)
            seconds = time.monotonic() - started
        registered = {c["extern_kenmerk"] for c in casesystem.cases() if c["status"] == "geregistreerd"}
        if registered != {d.reference for d in drafts}:
            raise RuntimeError("the bare script did not register every draft")
    return Rate("bare Playwright script", 1, len(drafts), seconds, seconds, load_start, load(),
                "bench_registration.bare_register per application, one browser")


def bare_register(page: Page, draft: CaseDraft) -> None:
    """One registration with plain Playwright calls: the framework's clicks, without its checks."""
    menu = page.get_by_role("navigation", name="Hoofdmenu")
    menu.get_by_role("link", name="Zaken zoeken").click()
    search = page.get_by_role("form", name="Zaken zoeken")
    search.get_by_label("Extern kenmerk").fill(draft.reference)
    search.get_by_role("button", name="Zoeken").click()
    results = page.get_by_role("region", name="Zoekresultaten")
    pw_expect(results.get_by_role("table").or_(results.get_by_text("Geen resultaten"))).to_be_visible()
    menu.get_by_role("link", name="Personen").click()
    for person in (draft.initiator, draft.partner):
        if person is not None:
            _bare_person(page, person)
    menu.get_by_role("link", name="Nieuwe zaak").click()
    form = page.get_by_role("form", name="Nieuwe zaak")
    form.get_by_label("Zaaktype").select_option(label="TONK")
    form.get_by_label("Omschrijving", exact=True).fill(draft.omschrijving)
    form.get_by_label("Startdatum").fill(draft.startdatum.isoformat())
    form.get_by_label("Kanaal").select_option(label=draft.kanaal)
    form.get_by_label("Extern kenmerk").fill(draft.reference)
    form.get_by_label("Initiator (BSN)").fill(draft.initiator.bsn)
    if draft.partner:
        form.get_by_label("Partner (BSN)").fill(draft.partner.bsn)
    labels = {"inkomen_oud": "Inkomen peilmaand oud", "inkomen_nieuw": "Inkomen peilmaand nieuw", "huur": "Huur",
              "huurtoeslag": "Huurtoeslag", "hypotheekrente": "Hypotheekrente",
              "hypotheekaflossing": "Hypotheekaflossing", "energie": "Energie", "water": "Water",
              "vermogen": "Vermogen"}
    for name, amount in draft.amounts().items():
        if amount is not None:
            form.get_by_label(labels[name], exact=True).fill(f"{amount:.2f}".replace(".", ","))
    months = form.get_by_role("group", name="Aangevraagde maanden")
    for month in draft.maanden:
        months.get_by_label(month, exact=True).check()
    form.get_by_label("IBAN").fill(draft.iban)
    form.get_by_label("Tenaamstelling").fill(draft.rekeninghouder)
    if draft.toelichting:
        form.get_by_label("Toelichting").fill(draft.toelichting)
    form.get_by_label("Beoordeling robot (advies)").fill(draft.note)
    form.get_by_role("button", name="Opslaan").click()
    pw_expect(page.get_by_role("heading", name="Documenten toevoegen")).to_be_visible()
    upload = page.get_by_role("form", name="Document uploaden")
    table = page.get_by_role("table", name="Geüploade documenten")
    for n, document in enumerate(draft.documents):
        upload.get_by_label("Bestand").set_input_files(
            {"name": document.filename, "mimeType": "application/octet-stream", "buffer": document.path.read_bytes()})
        upload.get_by_label("Documenttype").select_option(label=document.document_type)
        upload.get_by_role("button", name="Uploaden").click()
        pw_expect(table.get_by_role("row")).to_have_count(n + 2)  # the header row and one per document
    page.get_by_role("form", name="Afronden").get_by_role("button", name="Afronden").click()
    pw_expect(page.get_by_role("heading", name="Zaak geregistreerd")).to_be_visible()


def _bare_person(page: Page, person: PersonDraft) -> None:
    search = page.get_by_role("form", name="Persoon zoeken")
    search.get_by_label("BSN").fill(person.bsn)
    search.get_by_role("button", name="Zoeken").click()
    found = page.get_by_role("region", name="Gevonden persoon").filter(has=page.get_by_text(person.bsn, exact=True))
    missing = page.get_by_text("Geen persoon gevonden", exact=True)
    pw_expect(found.or_(missing)).to_be_visible()
    if found.is_visible():
        return
    form = page.get_by_role("form", name="Persoon aanmaken")
    labels = {"voornamen": "Voornamen", "tussenvoegsel": "Tussenvoegsel", "achternaam": "Achternaam",
              "straat": "Straat", "huisnummer": "Huisnummer", "toevoeging": "Toevoeging", "postcode": "Postcode",
              "woonplaats": "Woonplaats", "email": "E-mailadres", "telefoon": "Telefoonnummer"}
    form.get_by_label("Geboortedatum").fill(person.geboortedatum.isoformat())
    for name, label in labels.items():
        value = getattr(person, name)
        if value:
            form.get_by_label(label, exact=True).fill(str(value))
    form.get_by_role("button", name="Persoon aanmaken").click()
    pw_expect(found).to_be_visible()


# -- report ------------------------------------------------------------------------------------------

def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    from importlib.metadata import version

    chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": str(os.cpu_count()), "kernel": platform.release(),
            "python": platform.python_version(), "playwright": version("playwright"),
            "chromium": chromium or "?", "memory": _meminfo(), "host": socket.gethostname()}


def _meminfo() -> str:
    total = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
    return f"{total / 1024 / 1024:.1f} GiB"


def memory_summary(watch: TreeWatch) -> dict[str, Any]:
    samples = watch.samples
    peak = {k: max(getattr(s, k) for s in samples) for k in ("python_rss", "browser_rss", "browser_pss",
                                                           "chromium")}
    checkpoints = []
    for mark in (100, 250, 500, 750, 1000):
        at = next((s for s in samples if s.done >= mark), None)
        if at is not None:
            checkpoints.append((mark, at.python_rss, at.browser_rss, at.browser_pss, at.chromium))
    left = sorted(p for p in watch.chromium_seen if is_live_chromium(p))
    return {"peak": peak, "checkpoints": checkpoints, "chromium_seen": len(watch.chromium_seen),
            "chromium_left": len(left), "samples": len(samples)}


def mib(kb: int) -> str:
    return f"{kb / 1024:,.0f} MiB"


def report(rates: list[Rate], memory: dict[str, Any], info: dict[str, str], started: datetime, command: str,
           memory_items: int) -> str:
    by = {r.what: r for r in rates}
    one = by["framework, 1 worker"]
    base = by["bare Playwright script"]
    lines = [
        "# TONK registration in the case system: items per minute and memory",
        "",
        f"- Date: {started:%Y-%m-%d} (start {started:%H:%M} UTC)",
        f"- Machine: {info['cpu']}, {info['cores']} cores visible, {info['memory']}, Linux {info['kernel']}, "
        f"Python {info['python']}, Playwright {info['playwright']}, {info['chromium']} (headless); shared "
        f"with other engineers' work (load averages per part below)",
        f"- Command: `{command}`",
        "- What: generated TONK applications (seed 4242, all valid: 4-6 documents each, some with a partner) "
        "registered in the sandbox case system (FastAPI on the same machine, no faults, search results "
        "after its fixed 500 ms), each part against a fresh sandbox and data folder. See the script's docstring "
        "for how each figure is taken.",
        "",
        "## Registrations per minute",
        "",
        "| what | workers | items | seconds | items/minute | seconds/item | load avg start | load avg end |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rates:
        lines.append(f"| {r.what} | {r.workers} | {r.items:,} | {r.seconds:,.1f} | {r.per_minute:.1f} | "
                     f"{r.seconds / r.items:.2f} | {r.load_start} | {r.load_end} |")
    lines += [
        "",
        f"Framework overhead: the bare script registers {base.per_minute:.1f} per minute, the framework with "
        f"one worker {one.per_minute:.1f}: a ratio of **{base.per_minute / one.per_minute:.2f}** "
        f"(bare / framework; 1.00 would be no overhead).",
    ]
    if "framework, 1 worker, trace off" in by:
        off = by["framework, 1 worker, trace off"]
        lines.append(f"Without a trace per item the framework registers {off.per_minute:.1f} per minute "
                     f"(ratio to bare {base.per_minute / off.per_minute:.2f}).")
    lines += ["", "Commands as run (each after `softbot intake tonk` of the same applications):", ""]
    lines += [f"- {r.what}: `{r.command}`" for r in rates]
    peak = memory["peak"]
    lines += [
        "",
        f"## Memory over {memory_items:,} items (framework, 4 workers)",
        "",
        f"Sampled every second ({memory['samples']:,} samples) below the `softbot run tonk --workers 4` process.",
        "",
        "| after items | worker (Python) RSS | browsers RSS (sum) | browsers PSS (sum) | Chromium processes |",
        "|---:|---:|---:|---:|---:|",
    ]
    for mark, python_rss, browser_rss, browser_pss, chromium in memory["checkpoints"]:
        lines.append(f"| {mark:,} | {mib(python_rss)} | {mib(browser_rss)} | {mib(browser_pss)} | {chromium} |")
    lines += [
        f"| **peak** | **{mib(peak['python_rss'])}** | **{mib(peak['browser_rss'])}** | "
        f"**{mib(peak['browser_pss'])}** | **{peak['chromium']}** |",
        "",
        f"Chromium processes after the run: {memory['chromium_left']} alive of the {memory['chromium_seen']} "
        "seen during it.",
        "",
        "Browsers = Playwright's driver (node) and every Chromium process of the 4 workers. RSS counts "
        "pages shared between Chromium's processes once per process, so its sum overstates; PSS splits "
        "shared pages among their processes (the better sum).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(REPO)}")
    parser.add_argument("--quick", action="store_true", help="a few items per part (checks the script)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: runs and sandboxes are stopped on the way
    counts = {"one": 8, "two": 8, "memory": 12, "off": 8, "bare": 8} if args.quick else \
        {"one": 60, "two": 100, "memory": 1000, "off": 60, "bare": 60}
    command = " ".join(["python", "bench/bench_registration.py", *[shlex.quote(a) for a in (argv or sys.argv[1:])]])
    started = datetime.now(UTC)
    info = machine()
    print(f"machine: {json.dumps(info)}; load {load()}", flush=True)
    rates: list[Rate] = []
    with tempfile.TemporaryDirectory(prefix="bench-registration-") as tmp:
        root = Path(tmp)
        bare_rate = bare(root / "bare", counts["bare"])
        print(f"{bare_rate.what}: {bare_rate.per_minute:.1f}/min", flush=True)
        for name, workers, trace in (("one", 1, "on_failure"), ("off", 1, "off"), ("two", 2, "on_failure")):
            rate, _ = framework(root / name, counts[name], workers, trace=trace)
            rates.append(rate)
            print(f"{rate.what}: {rate.per_minute:.1f}/min over {rate.items} items", flush=True)
        four, watch = framework(root / "four", counts["memory"], 4, watch=True)
        rates.append(four)
        print(f"{four.what}: {four.per_minute:.1f}/min over {four.items} items", flush=True)
        rates.append(bare_rate)
        assert watch is not None
        memory = memory_summary(watch)
    order = ["framework, 1 worker", "framework, 2 workers", "framework, 4 workers", "framework, 1 worker, trace off",
             "bare Playwright script"]
    rates.sort(key=lambda r: order.index(r.what))
    text = report(rates, memory, info, started, command, counts["memory"])
    print(text)
    if args.write:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"written: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
