"""The entry point's helpers for the consumer: date received, documents of a work item, reason codes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from test_tonk_support import codes, run

from common.workqueue import Document
from tonk_bot.intake import document_refs, received_date


def test_received_date_is_the_amsterdam_calendar_date() -> None:
    # 22:30 UTC on 31 August is 00:30 on 1 September in Amsterdam (CEST, UTC+2)
    assert received_date(datetime(2021, 8, 31, 22, 30, tzinfo=UTC)) == date(2021, 9, 1)
    assert received_date(datetime(2021, 8, 31, 21, 59, tzinfo=UTC)) == date(2021, 8, 31)


def test_received_date_refuses_a_naive_moment() -> None:
    with pytest.raises(ValueError, match="naive"):
        received_date(datetime(2021, 8, 31, 12, 0))


def test_document_refs_keep_the_typed_attachments() -> None:
    stored = [
        Document(id=1, role="raw", document_type=None, filename="message.eml", content_type="message/rfc822",
                 size=10, sha256="a" * 64, storage_key="aa/a"),
        Document(id=2, role="attachment", document_type="identiteitsbewijs", filename="paspoort Çelik.pdf",
                 content_type="application/pdf", size=10, sha256="b" * 64, storage_key="bb/b"),
    ]
    refs = document_refs(stored)
    assert [(d.type, d.filename) for d in refs] == [("identiteitsbewijs", "paspoort Çelik.pdf")]


def test_reason_codes_once_each_in_order_and_findings_as_dicts() -> None:
    result = run("dronten-2021-q3.yaml", {"bsn": "111222334", "partner_bsn": "1", "achternaam": None},
                 partner=True)
    assert codes(result) == [("bsn_invalid", "bsn"), ("required_missing", "achternaam"),
                             ("bsn_invalid", "partner_bsn")]
    assert result.reason_codes == ["bsn_invalid", "required_missing"]
    assert result.finding_dicts()[0] == {"code": "bsn_invalid", "field": "bsn", "value": "111222334",
                                         "message": result.findings[0].message}
