"""Server-side sessions of the case system: a random cookie id -> user, CSRF token, request count.

A visitor gets an anonymous session (with a CSRF token) on the login page; logging in
replaces it with a fresh one (new id, new token). A session unused for `idle_seconds`
is gone; the `session_expiry_requests` fault ends it after N requests.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "zaaksysteem_sessie"


@dataclass
class Session:
    """One browser's session. `user` is None until a login succeeds."""

    id: str
    csrf: str
    user: str | None = None
    requests: int = 0
    last_seen: float = 0.0
    flash: list[str] = field(default_factory=list)


class SessionStore:
    """Sessions in memory (they end with the server, as in many real systems)."""

    def __init__(self, idle_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._idle = idle_seconds
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new(self, user: str | None = None) -> Session:
        """A fresh session with a new id and CSRF token."""
        session = Session(id=secrets.token_urlsafe(24), csrf=secrets.token_urlsafe(24), user=user,
                          last_seen=self._clock())
        with self._lock:
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with `session_id`, touched; None when unknown or idle too long (then dropped)."""
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self._idle:
                del self._sessions[session_id]
                return None
            session.last_seen = now
            return session

    def drop(self, session_id: str) -> None:
        """End a session (logout, expiry)."""
        with self._lock:
            self._sessions.pop(session_id, None)

    def count_request(self, session: Session) -> int:
        """Count one authenticated request on `session` and return the new count."""
        with self._lock:
            session.requests += 1
            return session.requests
