"""Intake from the sandbox portal (a real server, sandbox/portal) with its faults: nothing lost, nothing twice.

Faults come from portal-api.md ("Faults a client must survive"): 502/503/504, slow answers, a page that
changes between requests (another runner acknowledges), an attachment that 404s, a `size` that does not
match the bytes, a download cut short. Random faults are drawn from a seeded generator and the source
asks in a fixed order, so a run is the same every time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from common import app as service
from common.config import BotSettings, MaildirSourceSettings, PortalSourceSettings, Settings
from common.db import Database
from common.errors import SystemException
from common.sources.factory import build_source
from common.sources.portal import PortalSource
from common.storage import BlobStore
from common.workqueue import State, WorkQueue
from common.workqueue.listing import find_item, list_items
from sandbox.samples.generator import iter_samples
from sandbox.samples.writers import write_maildir
from tests.integration.test_portal_support import ROOT, TOKEN, TOKEN_ENV, RunningPortal, load, running_portal


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'softbot.db'}")
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


def portal_conf(portal: RunningPortal, **overrides: object) -> PortalSourceSettings:
    values: dict[str, object] = {"kind": "portal", "name": "portaal", "base_url": portal.url, "token_env": TOKEN_ENV,
                                 "form": "tonk", "timeout_seconds": 5, "retries": 6, "retry_wait_seconds": 0.01}
    values.update(overrides)
    return PortalSourceSettings(**values)  # type: ignore[arg-type]


def settings_for(tmp_path: Path, *sources: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", runs_dir=tmp_path / "runs",
                    bots={"tonk": BotSettings(sources=list(sources), options={  # type: ignore[arg-type]
                        "municipality": "dronten", "policies_dir": str(ROOT / "config" / "policies")})})


@pytest.mark.slow  # 56 submissions, some 400 requests through random faults: about 15 s
def test_every_submission_becomes_one_item_through_the_portals_faults(tmp_path: Path, db: Database) -> None:
    samples = list(iter_samples(56, 5, others=0, portal_share=1.0))   # 56: two pages of at most 50
    data = tmp_path / "portal.sqlite"
    assert load(data, samples, tmp_path / "portal") == 56
    first, second, third = (s.submission["attachments"] for s in samples[:3])  # type: ignore[index]
    faults = {"error_rate": 0.25, "error_statuses": [502, 503, 504], "seed": 3,
              "delay_seconds": 0.05, "slow_rate": 0.2, "ack_between_pages": 2,
              "missing_attachments": [first[0]["id"]], "size_mismatch": [second[0]["id"]],
              "truncate_attachments": [third[0]["id"]]}
    with running_portal(data, json.dumps(faults)) as portal:
        summary = service.run_once(settings_for(tmp_path, portal_conf(portal)), db, "tonk", consume_items=False)
        status = portal.submissions()
    assert summary["exit_code"] == 0, summary["counts"]
    items = {i.reference: i for i in list_items(db, queue="tonk")}
    assert sorted(items) == sorted(s.reference for s in samples)            # one item each, none lost
    assert all(s["status"] == "received" for s in status.values())          # every one acknowledged
    for reference, item in items.items():                                   # ... with our item id, unless the
        if status[reference]["acknowledged_by"] == "api":                   # other runner was first
            assert status[reference]["external_reference"] == str(item.id)
    assert sum(s["acknowledged_by"] == "other-runner" for s in status.values()) == 2  # 2 taken after page 1
    # the three damaged downloads went to a caseworker, with the reason; the rest wait for registration
    damaged = {s.reference for s in samples[:3]}
    for reference, item in items.items():
        if reference in damaged:
            assert (item.state, item.reason_codes) == (State.FAILED, ["attachment_missing"])
        else:
            assert item.state is State.PENDING, (reference, item.reason_codes)
    by_ref = {s.reference: s for s in samples}
    sample = by_ref[samples[5].reference]
    full = find_item(db, items[sample.reference].id)
    assert full.payload["fields"] == {k: v for k, v in sample.expectation["raw"].items() if v}  # type: ignore[union-attr]
    assert {(d.document_type, d.sha256) for d in full.documents if d.role == "attachment"} == \
        {(d["type"], d["sha256"]) for d in sample.expectation["documents"]}  # type: ignore[union-attr]
    [raw] = [d for d in full.documents if d.role == "raw"]
    stored = json.loads(BlobStore(tmp_path / "data" / "blobs").read(raw.storage_key or ""))
    assert (raw.filename, stored["reference"], stored["data"]) == ("origineel.json", sample.reference,
                                                                   sample.submission["data"])  # type: ignore[index]
    missing = find_item(db, items[samples[0].reference].id)
    assert [f["value"] for f in missing.findings] == [first[0]["filename"]]
    assert "niet gevonden" in missing.findings[0]["message"]


def test_a_submission_stored_but_not_acknowledged_is_acknowledged_on_the_next_intake(
        tmp_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    samples = list(iter_samples(3, 8, others=0, portal_share=1.0))
    data = tmp_path / "portal.sqlite"
    load(data, samples, tmp_path / "portal")
    with running_portal(data) as portal:
        settings = settings_for(tmp_path, portal_conf(portal))
        original = PortalSource.acknowledge

        def ack_lost(self: PortalSource, incoming: object) -> None:
            raise SystemException("portal.unreachable", "the connection dropped before the ack arrived")

        monkeypatch.setattr(PortalSource, "acknowledge", ack_lost)
        first = service.run_once(settings, db, "tonk", consume_items=False)
        assert (first["exit_code"], first["counts"]["added"], first["counts"]["source_errors"]) == (1, 3, 3)
        assert {s["status"] for s in portal.submissions().values()} == {"new"}   # stored, not acknowledged
        monkeypatch.setattr(PortalSource, "acknowledge", original)
        second = service.run_once(settings, db, "tonk", consume_items=False)
        status = portal.submissions()
    assert (second["exit_code"], second["counts"]) == (0, {"duplicates": 3, "read": 3})  # no second item
    items = {i.reference: i.id for i in list_items(db, queue="tonk")}
    assert len(items) == 3
    assert {ref: (s["status"], s["external_reference"]) for ref, s in status.items()} == \
        {ref: ("received", str(item_id)) for ref, item_id in items.items()}


def test_a_portal_that_stays_down_loses_nothing(tmp_path: Path, db: Database) -> None:
    samples = list(iter_samples(4, 9, others=0, portal_share=1.0))
    data = tmp_path / "portal.sqlite"
    load(data, samples, tmp_path / "portal")
    with running_portal(data, json.dumps({"error_rate": 1.0})) as portal:
        settings = settings_for(tmp_path, portal_conf(portal, retries=2))
        down = service.run_once(settings, db, "tonk", consume_items=False)
        assert (down["exit_code"], down["counts"]) == (1, {"source_errors": 1})
        with pytest.raises(SystemException, match="HTTP 50"):
            build_source(portal_conf(portal, retries=0)).check()
        portal.set_faults()
        assert build_source(portal_conf(portal)).check() == f"{portal.url}: 4 new submission(s) of form tonk"
        up = service.run_once(settings, db, "tonk", consume_items=False)
        status = portal.submissions()
    assert up["counts"]["added"] == 4 and {s["status"] for s in status.values()} == {"received"}


def test_the_same_submission_by_mail_and_by_api_is_one_item(tmp_path: Path, db: Database) -> None:
    samples = list(iter_samples(6, 12, others=0, portal_share=0.5, duplicates=2))
    both = [s for s in samples if s.message is not None and s.submission is not None]
    assert len(both) == 2
    data = tmp_path / "portal.sqlite"
    load(data, samples, tmp_path / "portal")
    maildir = tmp_path / "mail" / "tonk"
    delivered, _ = write_maildir(samples, maildir)
    assert delivered == 5  # 3 by mail only + the 2 duplicates
    with running_portal(data) as portal:
        mail_conf = MaildirSourceSettings(kind="maildir", name="postbus", path=maildir)
        summary = service.run_once(settings_for(tmp_path, mail_conf, portal_conf(portal)), db, "tonk",
                                   consume_items=False)
        status = portal.submissions()
    assert summary["counts"] == {"added": 6, "duplicates": 2, "read": 8}  # 5 mails + 3 submissions
    assert sorted(i.reference for i in list_items(db, queue="tonk")) == sorted(s.reference for s in samples)
    assert {s["status"] for s in status.values()} == {"received"}          # the duplicates acknowledged too
    assert not list((maildir / "new").iterdir())                            # and every mail moved
    for sample in both:  # the duplicate is recorded on the item's history
        item_id = next(i.id for i in list_items(db, queue="tonk") if i.reference == sample.reference)
        history = WorkQueue(db, "tonk", BlobStore(tmp_path / "blobs")).history(item_id)
        assert [e.reason for e in history] == ["received", "duplicate_received"]
