"""Exactly once, under SIGKILL: the producer is killed at each named step, for an input of each source kind,
and after a restart every input is exactly one work item and every source is acknowledged exactly once.

The producer runs in a subprocess (tests/integration/test_imap_crash_bot.py) over three real sources: a
Maildir, a Dovecot mailbox over IMAPS, and the sandbox portal. At the chosen step of the 2nd input of one
source it signals the test and waits; the test kills it with SIGKILL (from outside: no cleanup runs), lets
the dead run's lock expire, and runs the intake again without the hook.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from common.db import Database
from common.workqueue.listing import list_items
from common.workqueue.models import BotLockRow, DocumentRow, EventRow
from sandbox.samples.generator import iter_samples
from sandbox.samples.writers import MaildirWriter
from tests.fixtures.dovecot import DovecotServer, append
from tests.integration.test_imap_crash_bot import STEPS
from tests.integration.test_portal_support import ROOT, TOKEN, TOKEN_ENV, load, running_portal

pytestmark = [pytest.mark.imap, pytest.mark.slow]

PASSWORD_ENV = "SOFTBOT_TEST_IMAP_PASSWORD"
SOURCES = ("postbus", "imap", "portaal")
PER_SOURCE = 3


def config(tmp_path: Path, maildir: Path, server: DovecotServer, user: str, portal_url: str) -> Path:
    path = tmp_path / "softbot.yaml"
    path.write_text(f"""
data_dir: {tmp_path / 'data'}
runs_dir: {tmp_path / 'runs'}
bots:
  tonk:
    module: tests.integration.test_imap_crash_bot
    sources:
      - {{kind: maildir, name: postbus, path: "{maildir}", processed_folder: verwerkt}}
      - {{kind: imap, name: imap, host: {server.host}, port: {server.tls_port}, ca_file: "{server.ca_file}",
         user: {user}, password_env: {PASSWORD_ENV}, processed_folder: Verwerkt, fetch_batch: 2}}
      - {{kind: portal, name: portaal, base_url: "{portal_url}", token_env: {TOKEN_ENV}, form: tonk,
         retries: 2, retry_wait_seconds: 0.05}}
    options: {{municipality: dronten, policies_dir: "{ROOT / 'config' / 'policies'}"}}
""", encoding="utf-8")
    return path


def intake(conf: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "tests.integration.test_imap_crash_bot", str(conf)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def imap_count(server: DovecotServer, user: str, folder: str) -> int:
    conn = server.connect(user)
    status, data = conn.select(folder, readonly=True)
    conn.logout()
    return int(data[0]) if status == "OK" else 0


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("step", STEPS)
def test_killed_at_any_step_the_restart_leaves_exactly_one_item_per_input(
        step: str, source: str, tmp_path: Path, dovecot_server: DovecotServer, imap_account: str) -> None:
    mails = list(iter_samples(PER_SOURCE, 31, faulty_share=0.0, others=0))
    imap_mails = list(iter_samples(PER_SOURCE - 1, 32, faulty_share=0.0, others=1))
    submissions = list(iter_samples(PER_SOURCE, 33, faulty_share=0.0, others=0, portal_share=1.0))
    maildir = tmp_path / "mail" / "tonk"
    writer = MaildirWriter(maildir)
    for sample in mails:
        writer.add(sample)
    conn = dovecot_server.connect(imap_account)
    for sample in imap_mails:
        append(conn, "INBOX", sample.message or b"")
    conn.logout()
    data = tmp_path / "portal.sqlite"
    load(data, submissions, tmp_path / "portal")
    expected = sorted(s.reference for s in [*mails, *imap_mails, *submissions])
    assert len(expected) == 3 * PER_SOURCE

    with running_portal(data) as portal:
        conf = config(tmp_path, maildir, dovecot_server, imap_account, portal.url)
        signal_file = tmp_path / "crashed-at"
        env = {**os.environ, PASSWORD_ENV: dovecot_server.password, TOKEN_ENV: TOKEN,
               "CRASH_AT": f"{step}:{source}:2", "CRASH_SIGNAL": str(signal_file)}
        log = tmp_path / "intake.log"
        producer = intake(conf, env, log)
        deadline = time.monotonic() + 120
        while not signal_file.exists():
            assert producer.poll() is None, f"the producer ended before {step}:\n{log.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"no signal from the producer:\n{log.read_text(errors='replace')}"
            time.sleep(0.05)
        assert signal_file.read_text() == step
        producer.send_signal(signal.SIGKILL)  # from outside: no finally, no atexit, no flush
        assert producer.wait(timeout=30) == -signal.SIGKILL

        db = Database(f"sqlite:///{tmp_path / 'data' / 'softbot.db'}")
        # where it died: sources run in config order, the target is the 2nd input of its source
        position = SOURCES.index(source) * PER_SOURCE + 2
        committed = position if step in ("after_commit", "before_ack", "after_ack") else position - 1
        assert len(list_items(db, queue="tonk")) == committed
        with db.session() as s:  # the dead run's lock expires by itself after its TTL; let that time pass
            s.execute(sa.update(BotLockRow).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        env.pop("CRASH_AT")
        restart = intake(conf, env, log)
        assert restart.wait(timeout=120) == 0, log.read_text(errors="replace")
        status = portal.submissions()

    items = list_items(db, queue="tonk")
    assert sorted(i.reference for i in items) == expected           # every input once: none lost, none twice
    with db.session() as s:
        received = s.execute(sa.select(EventRow.item_id).where(EventRow.reason.in_(
            ["received", "not_an_application"]))).scalars().all()
        raw_documents = s.execute(sa.select(DocumentRow.item_id).where(DocumentRow.role == "raw")).scalars().all()
    assert sorted(received) == sorted(i.id for i in items)          # each item created once
    assert sorted(raw_documents) == sorted(i.id for i in items)     # with its original stored once
    db.dispose()
    # every source acknowledged exactly once: mail moved once (no copy left behind), submissions received
    assert list((maildir / "new").iterdir()) == [] and list((maildir / "cur").iterdir()) == []
    moved = [p for sub in ("new", "cur") for p in (maildir / ".verwerkt" / sub).iterdir()]
    assert len(moved) == PER_SOURCE
    assert (imap_count(dovecot_server, imap_account, "INBOX"),
            imap_count(dovecot_server, imap_account, "Verwerkt")) == (0, PER_SOURCE)
    assert {ref: s["status"] for ref, s in status.items()} == {s.reference: "received" for s in submissions}
    item_ids = {i.reference: str(i.id) for i in items}
    assert all(s["external_reference"] == item_ids[ref] for ref, s in status.items())
