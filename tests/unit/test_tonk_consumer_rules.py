"""The consumer's own rules (pure): waivers and the date received."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from common.errors import BusinessException
from tonk_bot import findings as f
from tonk_bot.consumer import date_received, standing_findings


def test_only_a_waivable_finding_can_be_waived() -> None:
    dup = f.possible_duplicate("bsn", "111222333", ["werkitem 3 (OF-ABCDEF)"], ["2021-08"])
    missing = f.document_missing("bankpas")
    assert standing_findings([dup, missing], frozenset()) == [dup, missing]
    assert standing_findings([dup, missing], frozenset({"possible_duplicate", "document_missing"})) == [missing]


def item(payload: dict, corrections: dict | None = None, received_at: datetime | None = None) -> SimpleNamespace:
    return SimpleNamespace(payload=payload, corrections=corrections or {}, received_at=received_at)


def test_date_received_prefers_a_correction_then_the_producers_date_then_the_timestamp() -> None:
    assert date_received(item({"received": "2021-08-12"}, {"received": "2021-08-01"})) == date(2021, 8, 1)
    assert date_received(item({"received": "2021-08-12"})) == date(2021, 8, 12)
    # 31-08-2021 22:30 UTC is 1 September 00:30 in Amsterdam (CEST)
    assert date_received(item({}, received_at=datetime(2021, 8, 31, 22, 30, tzinfo=UTC))) == date(2021, 9, 1)
    with pytest.raises(BusinessException) as raised:
        date_received(item({}))
    assert raised.value.findings[0]["field"] == "received"


def test_a_corrected_date_received_that_is_no_date_goes_back_to_the_caseworker() -> None:
    with pytest.raises(BusinessException) as raised:
        date_received(item({"received": "2021-08-12"}, {"received": "12-08-2021"}))
    assert raised.value.code == "received_unknown"
    assert raised.value.findings[0]["field"] == "received" and raised.value.findings[0]["value"] == "12-08-2021"
