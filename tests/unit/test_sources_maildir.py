"""The Maildir and .eml-folder sources: read changes nothing, acknowledge is one atomic rename, idempotent."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.errors import ConfigError, SystemException
from common.sources.emlfiles import EmlFilesSource
from common.sources.factory import source_from_path
from common.sources.maildir import MaildirSource


def deliver(root: Path, name: str, raw: bytes, when: datetime, sub: str = "new") -> Path:
    for folder in ("cur", "new", "tmp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    path = root / sub / name
    path.write_bytes(raw)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


AUG12 = datetime(2021, 8, 12, 12, 0, tzinfo=UTC)
AUG13 = datetime(2021, 8, 13, 12, 0, tzinfo=UTC)


def test_read_yields_each_message_oldest_first_and_changes_nothing(tmp_path: Path) -> None:
    box = tmp_path / "box"
    deliver(box, "2.host", b"Subject: twee\n\nB", AUG13)
    deliver(box, "1.host:2,S", b"Subject: een\n\nA", AUG12, sub="cur")   # read by a person already
    before = tree(box)
    source = MaildirSource("postbus", box)
    read = [(i.key, i.raw, i.delivered_at, i.total) for i in source.read()]
    assert read == [("1.host", b"Subject: een\n\nA", AUG12, 2), ("2.host", b"Subject: twee\n\nB", AUG13, 2)]
    assert tree(box) == before


def test_acknowledge_moves_with_one_rename_keeping_flags_and_is_idempotent(tmp_path: Path) -> None:
    box = tmp_path / "box"
    deliver(box, "1.host:2,S", b"A", AUG12, sub="cur")
    deliver(box, "2.host", b"B", AUG13)
    source = MaildirSource("postbus", box, "verwerkt")
    first, second = list(source.read())
    source.acknowledge(first)
    source.acknowledge(second)
    source.acknowledge(second)  # again: nothing left to move, no error, no copy
    assert tree(box) == [".verwerkt/cur/1.host:2,S", ".verwerkt/maildirfolder", ".verwerkt/new/2.host"]
    assert list(source.read()) == []


def test_a_message_whose_flags_changed_after_listing_is_still_read_and_moved(tmp_path: Path) -> None:
    box = tmp_path / "box"
    deliver(box, "1.host", b"A", AUG12)
    source = MaildirSource("postbus", box)
    reading = source.read()
    (box / "new" / "1.host").rename(box / "cur" / "1.host:2,S")  # a mail program opened it meanwhile
    [message] = list(reading)
    assert message.raw == b"A"
    source.acknowledge(message)
    assert tree(box) == [".processed/cur/1.host:2,S", ".processed/maildirfolder"]


def test_from_path_is_read_only(tmp_path: Path) -> None:
    box = tmp_path / "box"
    deliver(box, "1.host", b"A", AUG12)
    source = source_from_path(box)
    [message] = list(source.read())
    source.acknowledge(message)
    assert tree(box) == ["new/1.host"]


def test_check_counts_waiting_mail_and_fails_on_a_folder_that_is_no_maildir(tmp_path: Path) -> None:
    box = tmp_path / "box"
    deliver(box, "1.host", b"A", AUG12)
    assert MaildirSource("postbus", box).check() == f"Maildir {box}: 1 message(s) waiting"
    broken = MaildirSource("postbus", tmp_path / "other")
    (tmp_path / "other" / "tmp").rmdir()
    with pytest.raises(SystemException, match="no tmp/") as caught:
        broken.check()
    assert caught.value.code == "maildir.unusable"


def test_eml_files_one_file_or_a_folder_sorted_by_name(tmp_path: Path) -> None:
    (tmp_path / "b.eml").write_bytes(b"B")
    (tmp_path / "a.eml").write_bytes(b"A")
    (tmp_path / "notes.txt").write_bytes(b"x")
    assert [i.raw for i in EmlFilesSource("f", tmp_path).read()] == [b"A", b"B"]
    assert [i.raw for i in source_from_path(tmp_path / "b.eml").read()] == [b"B"]
    assert EmlFilesSource("f", tmp_path).check() == f"{tmp_path}: 2 .eml file(s)"
    with pytest.raises(ConfigError, match="no such file"):
        source_from_path(tmp_path / "missing")
