"""Content-addressed file store for raw inputs, documents and other blobs.

Each blob is stored once under `<root>/<sha256[:2]>/<sha256>`: a safe generated
name, never a citizen's filename. Writing is atomic (temp file + rename), so a
crash leaves either the whole file or none.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredBlob:
    """Where a blob went: `key` (relative path in the store), `sha256` (hex), `size` (bytes)."""

    key: str
    sha256: str
    size: int


class BlobStore:
    """Files by their sha256 under `root` (e.g. `runs/data/blobs`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> StoredBlob:
        """Store `data` (idempotent: the same bytes are written once; a second put renews the file's mtime,
        which `softbot purge` respects: it never deletes a blob touched in the last hour)."""
        digest = hashlib.sha256(data).hexdigest()
        key = f"{digest[:2]}/{digest}"
        path = self.root / key
        if path.exists():
            os.utime(path)  # a fresh mtime tells a concurrent purge that this blob is being reused
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredBlob(key=key, sha256=digest, size=len(data))

    def path(self, key: str) -> Path:
        """The file of `key`. Raises ValueError for a key that would leave the store."""
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"blob key outside the store: {key!r}")
        return path

    def read(self, key: str) -> bytes:
        """The bytes of `key`. Raises FileNotFoundError when purged or missing."""
        return self.path(key).read_bytes()

    def delete(self, key: str) -> bool:
        """Remove `key`; True when a file was removed."""
        path = self.path(key)
        if path.exists():
            path.unlink()
            return True
        return False
