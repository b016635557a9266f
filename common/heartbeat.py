"""A background thread that calls a function at a fixed interval (lease and lock heartbeats)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from types import TracebackType

from common.logging import get_logger

log = get_logger(__name__)


class Heartbeat:
    """Call `beat()` every `interval` seconds until stopped; use as a context manager.

    An exception from `beat` is logged and stops the heartbeat; `failed` then holds it, so
    the owner can notice it lost its lease.
    """

    def __init__(self, beat: Callable[[], object], interval: float, name: str) -> None:
        self._beat = beat
        self._interval = interval
        self._stop = threading.Event()
        context = contextvars.copy_context()  # the beat logs with the run's and item's bound values
        self._thread = threading.Thread(target=context.run, args=(self._run,), name=name, daemon=True)
        self.failed: Exception | None = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._beat()
            except Exception as exc:  # noqa: BLE001 - recorded in `failed` and logged, the owner decides
                self.failed = exc
                log.warning("heartbeat_failed", thread=self._thread.name, error=str(exc))
                return

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)
