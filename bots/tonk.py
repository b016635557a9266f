"""The TONK bot: TONK applications from mailboxes and the portal into the case system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.bot import BotDefinition
from common.runs import RunContext
from common.workqueue import WorkQueue
from tonk_bot.assess_command import assess_file
from tonk_bot.casesystem.labels import DEFAULT_LABELS
from tonk_bot.consumer import CORRECTABLE, WAIVABLE, TonkConsumer
from tonk_bot.options import check_tonk_options, tonk_options
from tonk_bot.producer import to_work_item


def _assess(path: Path, policy: Path | None, queue: WorkQueue | None,
            ctx: RunContext | None) -> tuple[dict[str, Any], int]:
    options = tonk_options(ctx.options if ctx else {})
    return assess_file(path, policy_path=policy, policies_dir=options.policies_dir, queue=queue,
                       municipality=options.municipality)


BOT = BotDefinition(
    name="tonk",
    description="TONK aanvragen (2021): intake from mailboxes and the portal, registration as zaak",
    to_work_item=to_work_item,
    open_consumer=TonkConsumer,
    assess=_assess,
    check_options=check_tonk_options,
    waivable=WAIVABLE,
    correctable=CORRECTABLE,
    result_ref_pattern=DEFAULT_LABELS.case_number_pattern,
)
