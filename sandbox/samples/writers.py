"""Write generated samples where the robot will find them: a Maildir, a folder of .eml files, a
portal data folder (for `python -m sandbox.portal load`), and the expectation file.

Portal folder layout (read by `sandbox.portal.store`):

```
PORTAL_DIR/submissions/OF-7QK2MZ.json   one results entry of portal-api.md, each attachment with
                                        "sha256" and "file": "attachments/<id>"
PORTAL_DIR/attachments/<id>              the attachment's bytes
```
"""

from __future__ import annotations

import json
import mailbox
import os
from collections.abc import Iterable
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import IO

from sandbox.samples.generator import Sample

EXPECTATION_FORMAT = "softbot-samples/1"


def existing_message_ids(box: mailbox.Maildir) -> set[str]:
    """Message-IDs of the messages already in `box` (new and cur of its top folder)."""
    parser = BytesHeaderParser()
    ids = set()
    for key in box.iterkeys():
        with box.get_file(key) as handle:
            message_id = parser.parse(handle).get("Message-ID")
        if message_id:
            ids.add(message_id.strip())
    return ids


class MaildirWriter:
    """Delivers e-mail samples into the Maildir at `path` (created when missing) as unread
    messages in `new/`, each file's time set to the message's received time.

    A message whose Message-ID is already in the Maildir is skipped, so regenerating into a
    mailbox not yet read does not double it. `delivered` and `skipped` count.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)  # Maildir creates only the last level
        self._box = mailbox.Maildir(self.path, create=True)
        self._present = existing_message_ids(self._box)
        self.delivered = 0
        self.skipped = 0

    def add(self, sample: Sample) -> None:
        """Deliver `sample` if it is an e-mail not yet in the Maildir."""
        if sample.message is None:
            return
        if sample.message_id in self._present:
            self.skipped += 1
            return
        key = self._box.add(sample.message)
        delivered_file = self.path / "new" / key  # Maildir.add puts plain bytes in new/ under their key
        stamp = sample.received.timestamp()
        os.utime(delivered_file, (stamp, stamp))
        self._present.add(sample.message_id)
        self.delivered += 1


def write_maildir(samples: Iterable[Sample], path: Path) -> tuple[int, int]:
    """Deliver every e-mail sample into the Maildir at `path` (see `MaildirWriter`);
    returns (delivered, skipped)."""
    writer = MaildirWriter(path)
    for sample in samples:
        writer.add(sample)
    return writer.delivered, writer.skipped


def eml_name(sample: Sample) -> str:
    """`0003-OF-7QK2MZ.eml`: index and reference, safe on every file system."""
    return f"{sample.index:04d}-{sample.reference}.eml"


def write_eml(sample: Sample, path: Path) -> bool:
    """Write an e-mail sample to `path/<index>-<reference>.eml` (overwriting); False for a non-e-mail."""
    if sample.message is None:
        return False
    path.mkdir(parents=True, exist_ok=True)
    target = path / eml_name(sample)
    target.write_bytes(sample.message)
    stamp = sample.received.timestamp()
    os.utime(target, (stamp, stamp))
    return True


def write_eml_dir(samples: Iterable[Sample], path: Path) -> int:
    """Write each e-mail sample as a .eml file into `path` (see `write_eml`); returns how many."""
    path.mkdir(parents=True, exist_ok=True)
    return sum(write_eml(sample, path) for sample in samples)


def write_portal_submission(sample: Sample, path: Path) -> bool:
    """Write a portal sample as `path/submissions/<reference>.json` plus `path/attachments/<id>`;
    False for a sample that does not go through the portal."""
    if sample.submission is None:
        return False
    (path / "submissions").mkdir(parents=True, exist_ok=True)
    (path / "attachments").mkdir(parents=True, exist_ok=True)
    submission = json.loads(json.dumps(sample.submission))  # a deep copy we may extend
    by_sha = {doc.sha256: doc for doc in sample.documents}
    for attachment in submission["attachments"]:
        (path / "attachments" / attachment["id"]).write_bytes(by_sha[attachment["sha256"]].data)
        attachment["file"] = f"attachments/{attachment['id']}"
    (path / "submissions" / f"{sample.reference}.json").write_text(
        json.dumps(submission, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return True


def write_portal_dir(samples: Iterable[Sample], path: Path) -> int:
    """Write each portal sample into the portal folder `path` (see `write_portal_submission`); returns how many."""
    (path / "submissions").mkdir(parents=True, exist_ok=True)
    (path / "attachments").mkdir(parents=True, exist_ok=True)
    return sum(write_portal_submission(sample, path) for sample in samples)


class ExpectationWriter:
    """Writes the expectation file one sample at a time (UTF-8 JSON, names unescaped):
    `{"format", "seed", "count", "faulty_share", "samples": [...]}`. Use as a context manager;
    the file is complete (valid JSON) once the block ends without error."""

    def __init__(self, path: Path, *, seed: int, count: int, faulty_share: float) -> None:
        self.path = Path(path)
        self._header = {"format": EXPECTATION_FORMAT, "seed": seed, "count": count, "faulty_share": faulty_share}
        self._handle: IO[str] | None = None
        self._written = 0

    def __enter__(self) -> ExpectationWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("w", encoding="utf-8")
        head = json.dumps(self._header, ensure_ascii=False)
        self._handle.write(head[:-1] + ', "samples": [\n')
        return self

    def add(self, expectation: dict[str, object]) -> None:
        """Append one sample's expectation."""
        if self._handle is None:
            raise RuntimeError("ExpectationWriter.add outside its with-block")
        if self._written:
            self._handle.write(",\n")
        self._handle.write(json.dumps(expectation, ensure_ascii=False, indent=2))
        self._written += 1

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            self._handle.write("\n]}\n")
            self._handle.close()
            self._handle = None


def write_expectations(samples: Iterable[Sample], path: Path, *, seed: int, count: int,
                       faulty_share: float) -> None:
    """Write the expectation file for `samples` (see `ExpectationWriter`)."""
    with ExpectationWriter(path, seed=seed, count=count, faulty_share=faulty_share) as writer:
        for sample in samples:
            writer.add(sample.expectation)
