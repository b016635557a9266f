"""The process tree below a pid, read from /proc: which Chromium processes a run started, and whether they ended.

Used by the end-to-end tests (no Chromium left behind after a run, a crash or SIGTERM) and by
`bench/bench_registration.py` (memory and process count of the browsers). Linux only.
"""

from __future__ import annotations

import time
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """Pids of every process below `pid` (children, their children, ...), live or zombie; [] when `pid` is gone."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children = [int(c) for c in task.read_text().split()]
            except OSError:  # the task ended while we read
                continue
            found += children
            todo += children
    return found


def is_live_chromium(pid: int) -> bool:
    """Whether `pid` is a running (not zombie) Chromium process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                     if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return b"chrom" in cmdline.split(b"\0")[0] and "Z" not in state.split()[1]


def chromium_descendants(pid: int) -> set[int]:
    """Pids of the live Chromium processes below `pid`."""
    return {child for child in descendants(pid) if is_live_chromium(child)}


def wait_until_gone(pids: set[int], limit_s: float = 30.0) -> set[int]:
    """Poll until none of `pids` is a live Chromium or `limit_s` seconds passed; returns those still alive."""
    deadline = time.monotonic() + limit_s
    while {p for p in pids if is_live_chromium(p)} and time.monotonic() < deadline:
        time.sleep(0.1)
    return {p for p in pids if is_live_chromium(p)}
