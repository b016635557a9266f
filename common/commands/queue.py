"""`softbot queue ...`: the caseworker's first tool over the exception queue.

Thin commands over the work queue's service functions (requeue, resolve), which
the web console reuses. Lists mask BSNs and IBANs; `show` is the detail view, where
a caseworker sees (and may correct) whole values.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from typing import Any

import typer
from rich.table import Table

from common import app as service
from common.bot import BotDefinition
from common.commands.base import cli_errors, database, fail_usage, out, settings
from common.config import Settings
from common.masking import mask_text
from common.runs import blob_store
from common.workqueue import InvalidTransition, ItemNotFound, StaleItem, State, WorkQueue
from common.workqueue.listing import find_item, list_items

app = typer.Typer(help="The work queue and its exception queue: list, show, requeue, resolve.",
                  no_args_is_help=True)

ACTOR = typer.Option(None, "--as", help="Who does this (recorded on the item); default $SOFTBOT_USER or your "
                     "login name.")


def _actor(name: str | None) -> str:
    return f"person:{name or os.environ.get('SOFTBOT_USER') or getpass.getuser()}"


@app.command("list")
def list_command(
    state: State = typer.Option(None, "--state", help="Only items in this state (e.g. failed)."),
    bot: str = typer.Option(None, "--bot", help="Only this bot's queue."),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List work items, newest first (BSN and IBAN masked)."""
    conf = settings()
    with database(conf) as db:
        items = list_items(db, queue=bot, state=state, limit=limit)
    if as_json:
        print(json.dumps([{"id": i.id, "queue": i.queue, "reference": i.reference, "state": i.state.value,
                           "kind": i.failure_kind.value if i.failure_kind else None, "codes": i.reason_codes,
                           "message": mask_text(i.message or ""), "zaak": i.result_ref,
                           "received_at": i.received_at.isoformat() if i.received_at else None}
                          for i in items], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Work items ({len(items)})")
    for column in ("id", "bot", "reference", "state", "kind", "reasons", "zaak", "received"):
        table.add_column(column)
    for i in items:
        table.add_row(str(i.id), i.queue, i.reference, i.state.value, i.failure_kind or "",
                      ", ".join(i.reason_codes), i.result_ref or "",
                      i.received_at.date().isoformat() if i.received_at else "")
    out.print(table)


@app.command("show")
def show(item_id: int = typer.Argument(..., help="The work item's id."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Everything about one item: why it failed (each finding), fields, documents, history."""
    conf = settings()
    with database(conf) as db:
        try:
            item = find_item(db, item_id)
        except ItemNotFound as exc:
            fail_usage(str(exc))
        queue = WorkQueue(db, item.queue, blob_store(conf))
        events = queue.history(item_id)
    if as_json:
        print(json.dumps({
            "id": item.id, "queue": item.queue, "reference": item.reference, "state": item.state.value,
            "kind": item.failure_kind.value if item.failure_kind else None, "codes": item.reason_codes,
            "message": item.message, "findings": item.findings, "fields": item.fields,
            "corrections": item.corrections, "attempts": item.attempts, "zaak": item.result_ref,
            "result": item.result, "version": item.version,
            "documents": [{"id": d.id, "role": d.role, "type": d.document_type, "filename": d.filename,
                           "content_type": d.content_type, "size": d.size, "sha256": d.sha256,
                           "stored": d.storage_key is not None} for d in item.documents],
            "history": [{"at": e.at.isoformat(), "actor": e.actor, "from": e.from_state, "to": e.to_state,
                         "reason": e.reason, "details": e.details, "run_id": e.run_id} for e in events],
        }, ensure_ascii=False, indent=2, default=str))
        return
    out.print(f"[bold]Item {item.id}[/] {item.queue} {item.reference}: [bold]{item.state.value}[/]"
              + (f" ({item.failure_kind.value})" if item.failure_kind else "")
              + (f"  zaak {item.result_ref}" if item.result_ref else "") + f"  version {item.version}")
    if item.message:
        out.print(f"  {item.message}")
    if item.findings:
        table = Table(title="Bevindingen")
        for column in ("code", "veld", "waarde", "toelichting"):
            table.add_column(column)
        for f in item.findings:
            table.add_row(str(f.get("code", "")), str(f.get("field", "")), str(f.get("value", "")),
                          str(f.get("message", "")))
        out.print(table)
    fields = Table(title="Velden (zoals ontvangen; correcties gemarkeerd)")
    fields.add_column("veld")
    fields.add_column("waarde")
    for key, value in item.fields.items():
        fields.add_row(key + (" *" if key in item.corrections else ""), str(value))
    out.print(fields)
    docs = Table(title="Documenten")
    for column in ("id", "rol", "type", "bestandsnaam", "soort", "bytes", "sha256"):
        docs.add_column(column)
    for d in item.documents:
        docs.add_row(str(d.id), d.role, d.document_type or "", d.filename, d.content_type, str(d.size),
                     d.sha256[:12] + ("" if d.storage_key else " (verwijderd)"))
    out.print(docs)
    history = Table(title="Geschiedenis")
    for column in ("wanneer (UTC)", "wie", "van", "naar", "waarom", "toelichting"):
        history.add_column(column, overflow="fold")
    for e in events:
        history.add_row(e.at.isoformat(timespec="seconds"), e.actor, e.from_state or "", e.to_state, e.reason,
                        mask_text(_event_note(e.details)))
    out.print(history)


def _event_note(details: dict[str, Any]) -> str:
    """What a person added to an event, in one line: note, corrections, waivers, zaak number, reason, codes."""
    parts = []
    if details.get("note"):
        parts.append(f"notitie: {details['note']}")
    if details.get("corrections"):
        parts.append("correcties: " + ", ".join(f"{k}={v}" for k, v in details["corrections"].items()))
    if details.get("waived"):
        parts.append("niet van toepassing: " + ", ".join(details["waived"]))
    if details.get("result_ref"):
        parts.append(f"zaak: {details['result_ref']}")
    if details.get("reason"):
        parts.append(f"reden: {details['reason']}")
    if details.get("codes"):
        parts.append("codes: " + ", ".join(details["codes"]))
    return "; ".join(parts)


@app.command("requeue")
def requeue(
    item_id: int = typer.Argument(...),
    set_: list[str] = typer.Option([], "--set", help="A correction, field=value (repeatable), e.g. "
                                   "--set bsn=111222333."),
    waive: list[str] = typer.Option([], "--waive", help="A finding code that does not apply (repeatable), e.g. "
                                    "--waive possible_duplicate after you checked it is no duplicate."),
    note: str = typer.Option(None, "--note", help="Why (kept in the history)."),
    actor: str = ACTOR,
) -> None:
    """Send a failed item back to the robot, with corrections; its history keeps who and why."""
    corrections: dict[str, str] = {}
    for pair in set_:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail_usage(f"--set {pair!r}: expected field=value")
        corrections[key.strip()] = value
    conf = settings()
    with database(conf) as db:
        try:
            item = find_item(db, item_id)
            bot = _bot_of(conf, item.queue)
            _check_waivable(bot, item.queue, waive)
            _check_correctable(bot, item.queue, corrections)
            queue = WorkQueue(db, item.queue, blob_store(conf))
            item = queue.requeue(item_id, actor=_actor(actor), corrections=corrections, note=note,
                                 expected_version=item.version, waive=waive)
        except (ItemNotFound, InvalidTransition, StaleItem, ValueError) as exc:
            fail_usage(str(exc))
    out.print(f"item {item.id} ({item.reference}) is {item.state.value} again"
              + (f" with corrections to {', '.join(sorted(corrections))}" if corrections else ""))


def _bot_of(conf: Settings, queue: str) -> BotDefinition | None:
    """The bot that works `queue` in the settings, or None (an item of a bot no longer configured)."""
    with cli_errors():
        for name, bot_conf in conf.bots.items():
            if (bot_conf.queue or name) == queue:
                return service.bot_for(conf, name)
    return None


def _check_waivable(bot: BotDefinition | None, queue: str, codes: list[str]) -> None:
    """Refuse a waiver the item's bot does not allow (exit 2, naming what may be waived)."""
    allowed = bot.waivable if bot else frozenset()
    refused = sorted(set(codes) - allowed)
    if refused:
        fail_usage(f"--waive {', '.join(refused)}: not allowed for queue {queue!r} "
                   f"(may be waived: {', '.join(sorted(allowed)) or 'nothing'})")


def _check_correctable(bot: BotDefinition | None, queue: str, corrections: dict[str, str]) -> None:
    """Refuse a correction of a field the item's bot does not know (exit 2, naming the fields it knows)."""
    if bot is None or not bot.correctable:
        return
    unknown = sorted(set(corrections) - bot.correctable)
    if unknown:
        fail_usage(f"--set {', '.join(unknown)}: no such field for queue {queue!r} "
                   f"(fields: {', '.join(sorted(bot.correctable))})")


def _check_result_ref(bot: BotDefinition | None, zaak: str) -> None:
    """Refuse a zaak number that does not look like one of the bot's case system (exit 2)."""
    if bot is not None and bot.result_ref_pattern and not re.fullmatch(bot.result_ref_pattern, zaak):
        fail_usage(f"--zaak {zaak!r}: not a number of this case system (expected the form "
                   f"{bot.result_ref_pattern})")


@app.command("resolve")
def resolve(
    item_id: int = typer.Argument(...),
    zaak: str = typer.Option(None, "--zaak", help="The zaak number, when you registered it by hand."),
    reason: str = typer.Option(None, "--reason", help="Why it is closed without the robot."),
    actor: str = ACTOR,
) -> None:
    """Close a failed item as handled by hand: with the zaak number or a reason."""
    if bool(zaak) == bool(reason):
        fail_usage("give either --zaak <number> (registered by hand) or --reason <text> (closed without a zaak)")
    conf = settings()
    with database(conf) as db:
        try:
            item = find_item(db, item_id)
            if zaak:
                _check_result_ref(_bot_of(conf, item.queue), zaak)
            queue = WorkQueue(db, item.queue, blob_store(conf))
            item = queue.resolve(item_id, actor=_actor(actor), result_ref=zaak, reason=reason,
                                 expected_version=item.version)
        except (ItemNotFound, InvalidTransition, StaleItem) as exc:
            fail_usage(str(exc))
    out.print(f"item {item.id} ({item.reference}) resolved" + (f": {zaak}" if zaak else f": {reason}"))



