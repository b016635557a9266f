"""A folder of `.eml` files (or one file) as a source: for `softbot intake --from PATH`.

Acknowledging does nothing: the files are the administrator's, not the robot's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from common.errors import SystemException
from common.sources.base import Incoming


class EmlFilesSource:
    """Yields each `*.eml` under `path` (sorted by name), or `path` itself when it is a file."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path

    def read(self) -> Iterator[Incoming]:
        files = self._files()
        for file in files:
            yield Incoming(source=self.name, kind="mail", key=str(file), raw=file.read_bytes(),
                           delivered_at=datetime.fromtimestamp(file.stat().st_mtime, UTC), total=len(files))

    def _files(self) -> list[Path]:
        return [self.path] if self.path.is_file() else sorted(self.path.glob("*.eml"))

    def acknowledge(self, incoming: Incoming) -> None:
        """Nothing to do: files named on the command line are left as they are."""

    def check(self) -> str:
        """`"<path>: <n> .eml file(s)"`. Raises SystemException("files.missing") when the path is gone."""
        if not self.path.exists():
            raise SystemException("files.missing", f"{self.path}: no such file or folder")
        return f"{self.path}: {len(self._files())} .eml file(s)"

    def close(self) -> None:
        """Nothing to release."""
