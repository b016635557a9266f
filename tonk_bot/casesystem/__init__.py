"""The case system, as the TONK robot sees it: labels, page objects, the draft and the registration flow.

    registration = register_case(session.page, draft, labels, before_submit=mark_started, account=account)
"""

from tonk_bot.casesystem.draft import CaseDraft, DocumentDraft, PersonDraft
from tonk_bot.casesystem.labels import DEFAULT_LABELS, CaseSystemLabels
from tonk_bot.casesystem.pages import ServerError, SessionExpired
from tonk_bot.casesystem.registration import CaseSystemAccount, Registration, log_in, register_case

__all__ = [
    "DEFAULT_LABELS", "CaseDraft", "CaseSystemAccount", "CaseSystemLabels", "DocumentDraft", "PersonDraft",
    "Registration", "ServerError", "SessionExpired", "log_in", "register_case",
]
