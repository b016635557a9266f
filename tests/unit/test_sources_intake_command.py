"""`softbot intake tonk --from PATH [--dry-run] [--json]`: what an administrator sees before pointing the robot
at a mailbox. The mail shapes of test_mail_shapes.py, as .eml files and as a Maildir."""

from __future__ import annotations

import hashlib
import json
import mailbox
from pathlib import Path

import pytest
from test_mail_shapes import SHAPES
from typer.testing import CliRunner

from common.commands import app
from common.db import Database
from common.workqueue.listing import list_items

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "softbot.yaml"
    path.write_text(f"""
data_dir: {tmp_path / 'data'}
runs_dir: {tmp_path / 'runs'}
bots:
  tonk:
    options: {{municipality: dronten, policies_dir: "{ROOT / 'config' / 'policies'}"}}
""", encoding="utf-8")
    monkeypatch.setenv("SOFTBOT_CONFIG", str(path))
    return path


def shapes_folder(folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    written = {}
    for name, (build, _, _) in SHAPES.items():
        raw = build()
        (folder / f"{name}.eml").write_bytes(raw)
        written[name] = raw
    return written


def test_dry_run_json_prints_one_object_per_message_and_writes_nothing(config: Path, tmp_path: Path) -> None:
    written = shapes_folder(tmp_path / "eml")
    result = CliRunner().invoke(app, ["intake", "tonk", "--from", str(tmp_path / "eml"), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_name = {Path(line["key"]).stem: line for line in lines}
    assert sorted(by_name) == sorted(SHAPES)
    for name, (_, outcome, codes) in SHAPES.items():
        line = by_name[name]
        assert (line["outcome"], line["reasons"]) == (outcome, codes), name
        raw = line["documents"][0]
        assert (raw["role"], raw["size"], raw["sha256"]) == ("raw", len(written[name]),
                                                             hashlib.sha256(written[name]).hexdigest())
    winmail = by_name["winmail-dat"]
    assert winmail["reason"].startswith("Een of meer bijlagen kan de robot niet registreren")
    assert [(f["code"], f["value"]) for f in winmail["findings"]] == [("attachment_refused", "winmail.dat")]
    rfc2231 = by_name["rfc2231-filename"]
    assert rfc2231["fields"] == {"bsn": "111222333", "voornamen": "Anna", "achternaam": "Jansen"}
    # the sha256 is of the decoded bytes of the file, not of its base64 in the mail
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert rfc2231["documents"][1] == {"role": "attachment", "type": "bankpas", "filename": "Özlem bankpas.pdf",
                                       "size": len(pdf), "content_type": "application/pdf",
                                       "sha256": hashlib.sha256(pdf).hexdigest()}
    assert not (tmp_path / "data").exists() and not (tmp_path / "runs").exists()


def test_intake_from_a_maildir_adds_items_but_leaves_the_maildir_as_it_is(config: Path, tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "box", create=True)
    for build, _, _ in list(SHAPES.values())[:3]:
        box.add(build())
    before = sorted(p.name for p in (tmp_path / "box" / "new").iterdir())
    result = CliRunner().invoke(app, ["intake", "tonk", "--from", str(tmp_path / "box"), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["outcome"] for line in lines] == ["application", "duplicate", "duplicate"]  # all three: OF-7QK2MZ
    assert sorted(p.name for p in (tmp_path / "box" / "new").iterdir()) == before
    db = Database(f"sqlite:///{tmp_path / 'data' / 'softbot.db'}")
    assert [i.reference for i in list_items(db, queue="tonk")] == ["OF-7QK2MZ"]
    db.dispose()


def test_intake_prints_what_became_of_each_message(config: Path, tmp_path: Path) -> None:
    folder = tmp_path / "eml"
    folder.mkdir()
    build, _, _ = SHAPES["winmail-dat"]
    (folder / "a.eml").write_bytes(build())
    result = CliRunner().invoke(app, ["intake", "tonk", "--from", str(folder)], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "what became of each message and submission" in text
    assert "│ OF-7QK2MZ │ human │" in text
    assert "human item 1 OF-7QK2MZ attachment_refused" in text
    assert "read 1, new items 0, duplicates 0, straight to a caseworker 1" in text


def test_a_folder_without_mail_says_so(config: Path, tmp_path: Path) -> None:
    (tmp_path / "leeg").mkdir()
    result = CliRunner().invoke(app, ["intake", "tonk", "--from", str(tmp_path / "leeg"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "no message or submission found in the sources read" in " ".join(result.stdout.split())
