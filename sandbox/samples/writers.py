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


def write_maildir(samples: Iterable[Sample], path: Path) -> tuple[int, int]:
    """Deliver every e-mail sample into the Maildir at `path` (created when missing) as an unread
    message in `new/`, with the file time set to the message's received time.

    A message whose Message-ID is already in the Maildir is skipped, so regenerating into a
    mailbox not yet read does not double it. Returns (delivered, skipped).
    """
    box = mailbox.Maildir(path, create=True)
    present = existing_message_ids(box)
    delivered = skipped = 0
    for sample in samples:
        if sample.message is None:
            continue
        if sample.message_id in present:
            skipped += 1
            continue
        key = box.add(sample.message)
        delivered_file = Path(path) / "new" / key  # Maildir.add puts plain bytes in new/ under their key
        stamp = sample.received.timestamp()
        os.utime(delivered_file, (stamp, stamp))
        delivered += 1
    return delivered, skipped


def eml_name(sample: Sample) -> str:
    """`0003-OF-7QK2MZ.eml`: index and reference, safe on every file system."""
    return f"{sample.index:04d}-{sample.reference}.eml"


def write_eml_dir(samples: Iterable[Sample], path: Path) -> int:
    """Write each e-mail sample to `path/<index>-<reference>.eml` (overwriting); returns how many."""
    path.mkdir(parents=True, exist_ok=True)
    written = 0
    for sample in samples:
        if sample.message is None:
            continue
        target = path / eml_name(sample)
        target.write_bytes(sample.message)
        stamp = sample.received.timestamp()
        os.utime(target, (stamp, stamp))
        written += 1
    return written


def write_portal_dir(samples: Iterable[Sample], path: Path) -> int:
    """Write each portal sample as `submissions/<reference>.json` plus `attachments/<id>`; returns how many."""
    (path / "submissions").mkdir(parents=True, exist_ok=True)
    (path / "attachments").mkdir(parents=True, exist_ok=True)
    written = 0
    for sample in samples:
        if sample.submission is None:
            continue
        submission = json.loads(json.dumps(sample.submission))  # a deep copy we may extend
        by_sha = {doc.sha256: doc for doc in sample.documents}
        for attachment in submission["attachments"]:
            (path / "attachments" / attachment["id"]).write_bytes(by_sha[attachment["sha256"]].data)
            attachment["file"] = f"attachments/{attachment['id']}"
        (path / "submissions" / f"{sample.reference}.json").write_text(
            json.dumps(submission, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written += 1
    return written


def expectation_document(samples: list[Sample], *, seed: int, count: int,
                         faulty_share: float) -> dict[str, object]:
    """The expectation file's content: `{"format", "seed", "count", "faulty_share", "samples": [...]}`."""
    return {"format": EXPECTATION_FORMAT, "seed": seed, "count": count, "faulty_share": faulty_share,
            "samples": [sample.expectation for sample in samples]}


def write_expectations(samples: list[Sample], path: Path, *, seed: int, count: int, faulty_share: float) -> None:
    """Write the expectation file (UTF-8 JSON, names unescaped)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = expectation_document(samples, seed=seed, count=count, faulty_share=faulty_share)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
