"""The portal source's rules, against a scripted portal (httpx.MockTransport): paging while the list shifts,
retries, attachments that 404 or differ in size, acknowledging. The real sandbox portal with its faults:
tests/integration/test_portal_intake.py."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from common.errors import SystemException
from common.sources.portal import PortalSource

PDF = b"%PDF-1.4\n%%EOF\n"


def submission(n: int, attachments: int = 0) -> dict[str, object]:
    ref = f"OF-{n:06d}".replace("0", "A").replace("1", "B")
    return {"reference": ref, "form": "tonk", "submitted_at": f"2021-08-{10 + n % 20:02d}T10:00:00+02:00",
            "data": {"bsn": "111222333"},
            "attachments": [{"id": f"{ref}-{i}", "document_type": "bankpas", "filename": f"doc{i}.pdf",
                             "content_type": "application/pdf", "size": len(PDF),
                             "url": f"/api/v1/submissions/{ref}/attachments/{ref}-{i}"} for i in range(attachments)]}


class FakePortal:
    """`new` submissions in pages of `page_size`; acked ones leave the list; scripted failures per path."""

    def __init__(self, subs: list[dict[str, object]], page_size: int = 2) -> None:
        self.subs = subs
        self.page_size = page_size
        self.acked: list[tuple[str, dict[str, object]]] = []
        self.calls: list[str] = []
        self.fail: dict[str, list[int]] = {}   # path -> statuses to answer first
        self.files: dict[str, bytes] = {}      # attachment id -> bytes (default PDF)
        self.token_ok = True

    def new(self) -> list[dict[str, object]]:
        done = {ref for ref, _ in self.acked}
        return [s for s in self.subs if s["reference"] not in done]

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(f"{request.method} {path}?{request.url.query.decode()}")
        if request.headers.get("Authorization") != "Token t0k3n" or not self.token_ok:
            return httpx.Response(401, json={"detail": "Invalid token."})
        queued = self.fail.get(path)
        if queued:
            return httpx.Response(queued.pop(0), text="<html>gateway</html>")
        if path == "/api/v1/submissions":
            page = int(request.url.params["page"])
            new = self.new()
            chunk = new[(page - 1) * self.page_size: page * self.page_size]
            if page > 1 and not chunk:
                return httpx.Response(404, json={"detail": "Invalid page."})
            more = page * self.page_size < len(new)
            return httpx.Response(200, json={"count": len(new), "results": chunk, "previous": None,
                                             "next": f"/api/v1/submissions?status=new&form=tonk&page={page + 1}"
                                             if more else None})
        if path.endswith("/ack"):
            ref = path.split("/")[-2]
            self.acked.append((ref, json.loads(request.content)))
            return httpx.Response(200, json={"reference": ref, "status": "received"})
        attachment = path.rsplit("/", 1)[-1]
        if attachment in self.files and self.files[attachment] is None:
            return httpx.Response(404, json={"detail": "Not found."})
        return httpx.Response(200, content=self.files.get(attachment, PDF))


def source(portal: FakePortal, retries: int = 2, sleeps: list[float] | None = None) -> PortalSource:
    record: Callable[[float], None] = (sleeps.append if sleeps is not None else lambda _s: None)
    return PortalSource("portaal", "https://portaal.example", SecretStr("t0k3n"), "tonk", retries=retries,
                        retry_wait_seconds=0.5, sleep=record, transport=httpx.MockTransport(portal.handler))


def test_reading_while_acknowledging_shifts_pages_but_misses_nothing() -> None:
    portal = FakePortal([submission(n) for n in range(1, 8)], page_size=2)
    src = source(portal)
    seen = []
    for incoming in src.read():
        seen.append(incoming.key)
        src.acknowledge(incoming)   # the producer acks each after its commit: later pages move up
    assert sorted(seen) == sorted(str(s["reference"]) for s in portal.subs)
    assert len(seen) == len(set(seen)) == 7
    assert portal.new() == []


def test_a_dry_run_reads_every_page_once() -> None:
    portal = FakePortal([submission(n) for n in range(1, 6)], page_size=2)
    keys = [i.key for i in source(portal).read()]
    assert keys == [str(s["reference"]) for s in portal.subs]
    # walk 1: pages 1, 2, 3; walk 2 finds nothing new and ends the read
    assert [c.split("page=")[1] for c in portal.calls] == ["1", "2", "3", "1", "2", "3"]


def test_5xx_and_timeouts_are_retried_with_doubling_waits() -> None:
    portal = FakePortal([submission(1, attachments=1)])
    portal.fail["/api/v1/submissions"] = [502, 503]
    sleeps: list[float] = []
    [incoming] = list(source(portal, retries=2, sleeps=sleeps).read())
    assert sleeps == [0.5, 1.0]
    assert incoming.attachments[0].data == PDF and incoming.attachments[0].problem is None


def test_a_portal_down_after_the_retries_is_a_system_exception() -> None:
    portal = FakePortal([submission(1)])
    portal.fail["/api/v1/submissions"] = [503, 503, 503]
    with pytest.raises(SystemException) as caught:
        list(source(portal, retries=2).read())
    assert caught.value.code == "portal.unreachable" and "after 3 attempts" in caught.value.message


def test_a_wrong_token_is_not_retried() -> None:
    portal = FakePortal([submission(1)])
    portal.token_ok = False
    with pytest.raises(SystemException) as caught:
        list(source(portal).read())
    assert caught.value.code == "portal.auth"
    assert len(portal.calls) == 1


def test_attachment_404_and_size_mismatch_are_yielded_as_problems() -> None:
    sub = submission(1, attachments=3)
    ids = [a["id"] for a in sub["attachments"]]  # type: ignore[index,union-attr]
    portal = FakePortal([sub])
    portal.files[ids[1]] = None            # 404
    portal.files[ids[2]] = PDF[:5]         # listed len(PDF) = 15 bytes, 5 delivered, twice
    [incoming] = list(source(portal).read())
    got = [(a.filename, a.problem, len(a.data), a.expected_size) for a in incoming.attachments]
    assert got == [("doc0.pdf", None, 15, 15), ("doc1.pdf", "missing", 0, 15), ("doc2.pdf", "size_mismatch", 5, 15)]
    assert sum(c.endswith(f"{ids[2]}?") for c in portal.calls) == 2  # downloaded once more before giving up


def test_a_submission_whose_attachment_stays_unreachable_is_left_new_and_the_read_reports_it() -> None:
    bad, good = submission(1, attachments=1), submission(2)
    portal = FakePortal([bad, good])
    portal.fail[str(bad["attachments"][0]["url"])] = [503, 503, 503]  # type: ignore[index]
    src = source(portal, retries=2)
    read = []
    with pytest.raises(SystemException) as caught:
        for incoming in src.read():
            read.append(incoming.key)
    assert read == [good["reference"]]          # the run went on with the next submission
    assert src.skipped == [bad["reference"]]    # not yielded, so not acknowledged: read again next time
    assert caught.value.code == "portal.incomplete"


def test_acknowledge_sends_our_item_id_and_accepts_a_repeat() -> None:
    from dataclasses import replace

    portal = FakePortal([submission(1)])
    src = source(portal)
    [incoming] = list(src.read())
    src.acknowledge(replace(incoming, item_id=42, reference=incoming.key))
    src.acknowledge(replace(incoming, item_id=42, reference=incoming.key))
    assert portal.acked == [(incoming.key, {"status": "received", "external_reference": "42"})] * 2


def test_the_raw_input_is_the_submissions_json_and_received_is_submitted_at() -> None:
    sub = submission(3)
    [incoming] = list(source(FakePortal([sub])).read())
    assert json.loads(incoming.raw) == sub and incoming.data == sub
    assert incoming.delivered_at is not None and incoming.delivered_at.isoformat() == "2021-08-13T10:00:00+02:00"
    assert (incoming.kind, incoming.total) == ("submission", 1)


def test_check_counts_new_submissions() -> None:
    assert source(FakePortal([submission(1), submission(2)])).check() == \
        "https://portaal.example: 2 new submission(s) of form tonk"


def test_a_portal_answer_not_as_the_contract_says_does_not_stop_the_read() -> None:
    odd = {"reference": "OF-BBBBBB", "form": "tonk", "submitted_at": "gisteren", "data": {"bsn": "1"},
           "attachments": {"id": "x"}}           # one attachment object instead of a list

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/ack"):
            return httpx.Response(200, json={})
        if "/attachments/" in request.url.path:
            return httpx.Response(404, json={"detail": "Not found."})
        # `next` points back to this page, a result has no reference, another is not an object
        return httpx.Response(200, json={"count": "drie", "next": str(request.url.raw_path, "ascii"),
                                         "results": [odd, {"form": "tonk"}, "OF-CCCCCC"]})

    src = PortalSource("portaal", "https://portaal.example", SecretStr("t"), "tonk", retries=0,
                       transport=httpx.MockTransport(handler))
    [incoming] = list(src.read())
    assert (incoming.key, incoming.delivered_at, incoming.total) == ("OF-BBBBBB", None, None)
    assert [(a.filename, a.problem) for a in incoming.attachments] == [("x", "missing")]
    from types import SimpleNamespace

    from common.config import Settings
    from tonk_bot.producer import to_work_item
    item = to_work_item(incoming, SimpleNamespace(settings=Settings()))  # type: ignore[arg-type]
    assert item.failure is not None and item.failure.codes == ["attachment_missing"]
