"""Duplicate detection: the same BSN in another work item of this bot with an overlapping month.

specs/tonk-policy.md ("Intake checks"): the same BSN (as applicant or partner) in another
work item of this bot with an overlapping requested month is a possible duplicate; the
item itself is excluded. A possible duplicate is a finding: a human looks, nothing is
refused.

The work queue holds each item's lookup keys (`WorkQueue.set_keys`): ``bsn`` (applicant
and partner) and ``month`` (the requested months inside the scheme period, ``"2021-07"``).
An item records its own keys before it looks at the others, so two copies processed at
the same moment both see each other (both go to a human) rather than neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from common.workqueue import WorkQueue


@dataclass(frozen=True)
class DuplicateHit:
    """Another application with one of our BSNs and an overlapping month.

    Attributes:
        field: which of our BSNs matched: ``"bsn"`` or ``"partner_bsn"``.
        bsn: that BSN (9 digits; personal data: mask before logging).
        other: how a caseworker finds the other one, e.g. ``"werkitem 12 (OF-7QK2MZ)"``.
        months: the overlapping months, ``"2021-07"``.
    """

    field: str
    bsn: str
    other: str
    months: frozenset[str]


class DuplicateLookup(Protocol):
    """Finds other applications that overlap with this one (and remembers this one, when stored)."""

    def find(self, bsns: Mapping[str, str], months: Sequence[str]) -> list[DuplicateHit]:
        """Other applications sharing a BSN and a month.

        Args:
            bsns: our BSNs by field, ``{"bsn": "111222333", "partner_bsn": "123456782"}``.
            months: our requested months inside the scheme period, ``["2021-07", "2021-08"]``.
        """
        ...


class QueueDuplicates:
    """`DuplicateLookup` over the work queue of this bot (SQLite or PostgreSQL).

    Args:
        queue: the bot's work queue.
        item_id: the work item being checked: its keys are recorded first and it is left out
            of the search. None (e.g. `softbot assess tonk --db`) only looks, records nothing.
    """

    def __init__(self, queue: WorkQueue, item_id: int | None = None) -> None:
        self.queue = queue
        self.item_id = item_id

    def find(self, bsns: Mapping[str, str], months: Sequence[str]) -> list[DuplicateHit]:
        if self.item_id is not None:
            self.queue.set_keys(self.item_id, {"bsn": list(bsns.values()), "month": list(months)})
        if not bsns or not months:
            return []
        ours = set(months)
        others = self.queue.items_with_key("bsn", sorted(set(bsns.values())), exclude=self.item_id)
        hits = []
        for other_id, keys in sorted(others.items()):
            overlap = frozenset(keys.get("month", set()) & ours)
            if not overlap:
                continue
            other = f"werkitem {other_id} ({self.queue.get(other_id).reference})"
            for field, bsn in bsns.items():
                if bsn in keys.get("bsn", set()):
                    hits.append(DuplicateHit(field=field, bsn=bsn, other=other, months=overlap))
        return hits
