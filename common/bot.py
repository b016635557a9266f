"""What a bot is, as the framework sees it: a name and a few functions (no domain knowledge here).

A bot module (`bots/<name>.py`) exposes `BOT = BotDefinition(...)`; the framework finds
it by the name in `config/softbot.yaml` (`bots.<name>.module`, default `bots.<name>`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from common.errors import ConfigError

if TYPE_CHECKING:
    from common.runs import RunContext
    from common.sources.base import Incoming
    from common.workqueue import NewItem, WorkItem, WorkQueue


@dataclass(frozen=True)
class ItemOutcome:
    """What processing one item produced: `result` (stored on the item), `result_ref` (e.g. the
    zaak number), and `findings` kept on a done item (e.g. the pre-assessment's criteria)."""

    result: dict[str, Any]
    result_ref: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)


class ItemSteps(Protocol):
    """What a consumer may do to the item in hand (bound to the item and the lease owner)."""

    queue: WorkQueue
    folder: Path

    def mark_submission_started(self, **details: Any) -> None:
        """Record, before the irreversible click, that submission starts (exactly-once marker)."""
        ...

    def mark_submitted(self, result_ref: str, **details: Any) -> None:
        """Record, right after the irreversible click, what it made (e.g. the zaak number)."""
        ...

    def submitted_ref(self) -> str | None:
        """What an earlier attempt (or this one) recorded with `mark_submitted`, else None."""
        ...

    def set_keys(self, keys: Mapping[str, Sequence[str]]) -> None:
        """Set the item's lookup keys (duplicate checks)."""
        ...


class Consumer(Protocol):
    """Processes work items, e.g. by driving the case system's UI. One per worker thread."""

    def process(self, item: WorkItem, steps: ItemSteps) -> ItemOutcome:
        """Handle one item. Raises BusinessException (to a human at once) or SystemException (retried)."""
        ...

    def reset(self) -> None:
        """Start afresh after a system exception (e.g. a new browser context)."""
        ...

    def capture_failure(self, folder: Path) -> list[Path]:
        """Write diagnostics of the current state (screenshot, HTML, trace) into `folder`."""
        ...

    def close(self) -> None:
        """Release everything (browser processes included)."""
        ...


@dataclass(frozen=True)
class BotDefinition:
    """A deployable bot.

    Attributes:
        name: the bot's name, as on the command line (`softbot run <name>`).
        description: one line for `--help` and `softbot bots`.
        to_work_item: producer mapping: one input -> one NewItem (an application, or an item for a
            human with a failure); must not raise on bad input.
        open_consumer: makes a Consumer for one worker thread of a run.
        assess: optional `softbot assess <bot>` implementation:
            (file, policy path | None, queue | None, context) -> (JSON-able dict, exit code).
        check_options: validates `bots.<name>.options` of the config; raises ConfigError.
        waivable: finding codes a caseworker may waive on requeue (`softbot queue requeue --waive`),
            for findings that are judgements rather than facts, e.g. a possible duplicate.
        correctable: the field names a caseworker may correct on requeue (`--set field=value`);
            empty: any name (a bot that says nothing is not second-guessed).
        result_ref_pattern: a regular expression the whole reference of a hand-made result must
            match (`softbot queue resolve --zaak`), e.g. the case system's zaak number; None: any.
    """

    name: str
    description: str
    to_work_item: Callable[[Incoming, RunContext], NewItem]
    open_consumer: Callable[[RunContext], Consumer]
    assess: Callable[[Path, Path | None, WorkQueue | None, RunContext | None], tuple[dict[str, Any], int]] | None = None
    check_options: Callable[[Mapping[str, Any]], object] | None = None
    waivable: frozenset[str] = frozenset()
    correctable: frozenset[str] = frozenset()
    result_ref_pattern: str | None = None


def load_bot(name: str, module: str | None = None) -> BotDefinition:
    """Import the bot `name` from `module` (default `bots.<name>`).

    Raises:
        ConfigError("config.bot_module"): the module is missing or has no `BOT`.
    """
    module = module or f"bots.{name}"
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise ConfigError("config.bot_module", f"bot {name!r}: module {module!r} not found ({exc})") from exc
    bot = getattr(loaded, "BOT", None)
    if not isinstance(bot, BotDefinition):
        raise ConfigError("config.bot_module", f"bot {name!r}: {module} has no BOT = BotDefinition(...)")
    return bot
