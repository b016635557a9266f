"""One run lock per bot: runs of a bot never overlap, whoever starts them (DESIGN.md, "The command line").

The lock is a row in `bot_locks` with an expiry that a heartbeat extends; a crashed
run's lock expires by itself. Every entry point (scheduler firing, `run`, `intake`,
`worker`) takes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from common.db import Database, utcnow
from common.errors import LockHeld
from common.heartbeat import Heartbeat
from common.workqueue.models import BotLockRow


def try_acquire(db: Database, bot: str, owner: str, run_id: str | None, ttl: int,
                now: datetime | None = None) -> BotLockRow | None:
    """Take `bot`'s lock for `owner` for `ttl` seconds; returns None when another owner holds it."""
    now = now or utcnow()
    expires = now + timedelta(seconds=ttl)
    with db.session() as s:
        taken = s.execute(sa.update(BotLockRow).where(
            BotLockRow.bot == bot, sa.or_(BotLockRow.expires_at < now, BotLockRow.owner == owner))
            .values(owner=owner, run_id=run_id, acquired_at=now, expires_at=expires)).rowcount
    if taken:
        return holder(db, bot)
    try:
        with db.session() as s:
            s.add(BotLockRow(bot=bot, owner=owner, run_id=run_id, acquired_at=now, expires_at=expires))
    except IntegrityError:
        return None
    return holder(db, bot)


def holder(db: Database, bot: str) -> BotLockRow | None:
    """The current lock row of `bot` (may be expired), or None."""
    with db.session() as s:
        row = s.get(BotLockRow, bot)
        if row is not None:
            s.expunge(row)
        return row


def extend(db: Database, bot: str, owner: str, ttl: int) -> None:
    """Push the lock's expiry `ttl` seconds ahead. Raises LockHeld when `owner` lost it."""
    with db.session() as s:
        done = s.execute(sa.update(BotLockRow).where(BotLockRow.bot == bot, BotLockRow.owner == owner)
                         .values(expires_at=utcnow() + timedelta(seconds=ttl))).rowcount
    if not done:
        raise LockHeld("lock.lost", f"bot {bot}: run lock lost by {owner}")


def release(db: Database, bot: str, owner: str) -> None:
    """Give the lock up (only if `owner` holds it)."""
    with db.session() as s:
        s.execute(sa.delete(BotLockRow).where(BotLockRow.bot == bot, BotLockRow.owner == owner))


@contextmanager
def bot_lock(db: Database, bot: str, owner: str, run_id: str | None, ttl: int = 60) -> Iterator[None]:
    """Hold `bot`'s run lock for the block, with a heartbeat every ttl/3 seconds.

    Raises:
        LockHeld("lock.held"): another run holds it; the message names its run id and since when.
    """
    if try_acquire(db, bot, owner, run_id, ttl) is None:
        row = holder(db, bot)
        since = row.acquired_at.isoformat(timespec="seconds") if row else "?"
        raise LockHeld("lock.held", f"bot {bot} is already running (run {row.run_id if row else '?'}, "
                                    f"since {since}, by {row.owner if row else '?'})")
    try:
        with Heartbeat(lambda: extend(db, bot, owner, ttl), ttl / 3, name=f"lock-{bot}"):
            yield
    finally:
        release(db, bot, owner)
