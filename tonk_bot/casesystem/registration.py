"""Register one TONK application as one zaak, exactly once, through the case system's UI.

The steps are a caseworker's own: search the extern kenmerk first; if a zaak exists
(an earlier attempt got that far), open it and upload only what is missing; else
find or create the initiator (and partner) by BSN, fill "Nieuwe zaak", save, upload
each document with its type, and "Afronden". Searching first is what keeps an item
from becoming two cases when a runner dies between the click and its commit
(DESIGN.md, "Nothing twice"); the case system itself does not refuse a duplicate
extern kenmerk.

When the session expires on the way, the robot logs in again and carries on; when
the case system answers with its error page (a 5xx, often transient), it goes back
to the screen before and carries on from there. Carrying on is safe because each
step looks before it creates: the kenmerk search before a new zaak (again after
every click on "Opslaan"), the person search before a new person, the document list
(loaded afresh) before an upload. What the call has done it remembers (persons, the
zaak and the address of its upload screen, uploads). Both are bounded (`max_logins`;
`max_restarts` errors in a row with no step done in between); beyond that the
SystemException goes to the runner, which retries the item in a fresh browser context.

Hooks for the work item: `before_submit()` right before the click that creates the
zaak, `after_submit(number)` right after it shows the new zaak's number (the consumer
records it on the item), and `known_zaak`: the number an earlier attempt recorded.
A known zaak that the search does not find is a SystemException, never a reason to
create another. The password is typed inside `untraced()` (the browser session's:
no trace records it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from pydantic import SecretStr

from common.errors import BusinessException, SystemException
from common.masking import mask_text
from tonk_bot.casesystem.draft import CaseDraft, PersonDraft
from tonk_bot.casesystem.labels import DEFAULT_LABELS, CaseSystemLabels
from tonk_bot.casesystem.pages import (
    CaseSearchPage,
    LoginPage,
    NewCasePage,
    PersonFormPage,
    PersonSearchPage,
    Screen,
    ServerError,
    SessionExpired,
    UploadPage,
    normalise_text,
)

Untraced = Callable[[], AbstractContextManager[None]]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CaseSystemAccount:
    """Where the case system is and who the robot is there (`password` from the environment)."""

    url: str
    username: str
    password: SecretStr


@dataclass(frozen=True)
class Registration:
    """The outcome: the zaak's number, whether this call created it, the file names this call uploaded."""

    zaak_number: str
    created: bool
    uploaded: list[str] = field(default_factory=list)


def log_in(page: Page, account: CaseSystemAccount, labels: CaseSystemLabels = DEFAULT_LABELS,
           untraced: Untraced = nullcontext) -> None:
    """Open `account.url` and log in when the login form shows (no-op when already logged in).

    The password is typed inside `untraced()` (e.g. `BrowserSession.untraced`: no trace records it).

    Raises:
        SystemException("casesystem.login_failed" | "page.unexpected"), ServerError, SessionExpired.
    """
    page.goto(account.url)
    screen = Screen(page, labels)
    menu = page.get_by_role("navigation", name=labels.main_menu, exact=True)
    try:
        screen.arrive(menu)
    except SessionExpired:
        _login(page, account, labels, untraced)


def _login(page: Page, account: CaseSystemAccount, labels: CaseSystemLabels, untraced: Untraced) -> None:
    with untraced():
        LoginPage(page, labels).login(account.username, account.password.get_secret_value())


def register_case(
    page: Page,
    draft: CaseDraft,
    labels: CaseSystemLabels = DEFAULT_LABELS,
    *,
    before_submit: Callable[[], None],
    after_submit: Callable[[str], None] | None = None,
    known_zaak: str | None = None,
    account: CaseSystemAccount | None = None,
    untraced: Untraced = nullcontext,
    max_logins: int = 20,
    max_restarts: int = 5,
) -> Registration:
    """Register `draft` as one zaak (or complete the zaak an earlier attempt left) and return its number.

    Args:
        page: a Playwright page; on a logged-in case system page, or `account` given (then it logs in).
        draft: what to register.
        labels: the case system's words.
        before_submit: called right before each click on "Opslaan" of a new zaak (the consumer records
            "submission started" on the work item there). Not called when the zaak already exists.
        after_submit: called with the new zaak's number as soon as the case system shows it, before
            the uploads (the consumer records it on the work item).
        known_zaak: the number of the zaak an earlier attempt created for this draft, if recorded.
        account: the case system's URL and credentials, to log in at the start and again after the
            session expired, and to return to the start page after an error page. Without it, an
            expired session raises SessionExpired and an error page ServerError.
        untraced: a context manager factory the login runs in (`BrowserSession.untraced`).
        max_logins: how many times to log in again within one call before giving up.
        max_restarts: how many error pages (HTTP 5xx, failed searches) in a row, with no step done in
            between, to start over after (and six times that in all).

    Raises:
        BusinessException("casesystem.duplicate_cases"): more than one zaak has this extern kenmerk
            already (a human must look; the robot creates nothing).
        SessionExpired: the session expired and no `account` was given, or it kept expiring.
        ServerError ("casesystem.server_error"): an error page with no `account`, or too many.
        SystemException: page.unexpected, casesystem.rejected (fields named), casesystem.login_failed,
            casesystem.case_not_found (the known zaak is not found), casesystem.upload_not_listed,
            document.checksum_mismatch, and browser.error for any other Playwright error (a timeout, a
            closed page; message masked).
    """
    try:
        return _register(page, draft, labels, _Hooks(before_submit, after_submit, known_zaak), account,
                         untraced, max_logins, max_restarts)
    except PlaywrightError as exc:
        # a locator that never resolved, a crashed page: the world misbehaved (masked: locators may hold a BSN)
        first_line = (exc.message or type(exc).__name__).splitlines()[0]
        raise SystemException("browser.error", mask_text(first_line)) from exc


@dataclass
class _Hooks:
    before_submit: Callable[[], None]
    after_submit: Callable[[str], None] | None
    known_zaak: str | None


def _register(page: Page, draft: CaseDraft, labels: CaseSystemLabels, hooks: _Hooks,
              account: CaseSystemAccount | None, untraced: Untraced, max_logins: int,
              max_restarts: int) -> Registration:
    flow = _Registration(page, draft, labels, hooks)
    go_home = account is not None and not page.url.startswith(account.url.rstrip("/"))
    log_in_here = False
    logins = restarts = stuck = best = 0
    while True:
        try:
            if go_home and account is not None:
                go_home = False
                log_in(page, account, labels, untraced)
            elif log_in_here and account is not None:
                log_in_here = False
                _login(page, account, labels, untraced)
            return flow.run()
        except SessionExpired:
            if account is None or logins >= max_logins:
                raise
            logins += 1
            log_in_here = True
            log.info("casesystem.login_again", reference=draft.reference, logins=logins)
        except ServerError as exc:
            restarts += 1
            stuck = 0 if flow.progress() > best else stuck + 1
            best = max(best, flow.progress())
            if account is None or stuck > max_restarts or restarts > 6 * max_restarts:
                raise
            log.info("casesystem.start_over", reference=draft.reference, restarts=restarts, code=exc.code,
                        error=exc.message)
            go_home, log_in_here = not flow.recover(), False


class _Registration:
    """The steps of one registration; `run` may be repeated after a new login or an error page.

    What the call has learnt carries over to the next `run`: the persons found or made, the zaak
    (found or created) with the address of its upload screen, the documents uploaded, and that the
    kenmerk search found nothing (`absent`, only until the click on "Opslaan": from then on the
    search must look again).
    """

    def __init__(self, page: Page, draft: CaseDraft, labels: CaseSystemLabels, hooks: _Hooks) -> None:
        self.page = page
        self.draft = draft
        self.labels = labels
        self.hooks = hooks
        self.known_zaak = hooks.known_zaak
        self.zaak: str | None = None
        self.upload_url: str | None = None
        self.absent = False
        self.submitted = False
        self.uploaded: list[str] = []
        self.persons_present: set[str] = set()

    def run(self) -> Registration:
        upload = self._upload_page_again() or self._upload_page()
        number = self.zaak
        assert number is not None
        self._upload_missing(upload)
        confirmed = upload.finish().case_number()
        if confirmed != number:
            raise SystemException("page.unexpected", f"confirmation shows {confirmed}, expected {number}")
        return Registration(zaak_number=number, created=self.submitted, uploaded=list(self.uploaded))

    def progress(self) -> int:
        """How far the call got (grows with each person, zaak, document and search that worked)."""
        return len(self.persons_present) + len(self.uploaded) + (self.zaak is not None) + self.absent

    def recover(self) -> bool:
        """After an error page: back to a case system screen to carry on from.

        Once the zaak's upload screen was seen, `run` returns there by its address. Else the browser
        goes back in its history to the screen before the error. Going back never sends a form
        again: every form of the case system answers with a redirect. Returns whether a case system
        screen (with its menu) shows now or the upload screen is known; False means: go to the
        start page instead.
        """
        if self.upload_url is not None:
            return True
        menu = self.page.get_by_role("navigation", name=self.labels.main_menu, exact=True)
        if menu.first.is_visible():
            return True  # e.g. a failed search: the screen itself is fine
        try:
            self.page.go_back(wait_until="commit")
            Screen(self.page, self.labels).arrive(menu)
        except (SystemException, PlaywrightError):
            return False
        return True

    def _upload_page_again(self) -> UploadPage | None:
        """The zaak's upload screen, loaded afresh by the address it had, once this call has seen it."""
        if self.zaak is None or self.upload_url is None:
            return None
        self.page.goto(self.upload_url, wait_until="commit")
        upload = UploadPage(self.page, self.labels)
        upload.arrive()
        if upload.case_number() != self.zaak:
            raise SystemException("page.unexpected", f"the upload screen shows another zaak than {self.zaak}")
        return upload

    def _upload_page(self) -> UploadPage:
        """The zaak's upload screen: of the zaak the search finds, else of a new one (look before create)."""
        if not self.absent:
            search = CaseSearchPage(self.page, self.labels).open()
            rows = search.search(self.draft.reference)
            if len(rows) > 1:
                numbers = ", ".join(r.get(self.labels.column_case_number, "?") for r in rows)
                raise BusinessException("casesystem.duplicate_cases",
                                        f"Er bestaan al meerdere zaken met extern kenmerk {self.draft.reference}: "
                                        f"{numbers}. Controleer en voeg ze samen.")
            if rows:
                number = rows[0].get(self.labels.column_case_number, "")
                if self.known_zaak and number != self.known_zaak:
                    raise SystemException("casesystem.case_not_found",
                                          f"the search for {self.draft.reference} shows {number}, not the zaak "
                                          f"{self.known_zaak} created earlier")
                log.info("casesystem.case_exists", reference=self.draft.reference, zaak=number)
                upload = search.open_case(number).add_documents()
                self.zaak, self.upload_url = number, self.page.url
                return upload
            if self.known_zaak:
                # created by an earlier attempt but not found (a search index behind?): never a second one
                raise SystemException("casesystem.case_not_found",
                                      f"zaak {self.known_zaak} created earlier is not found by extern kenmerk "
                                      f"{self.draft.reference}")
            self.absent = True
        for person in (self.draft.initiator, self.draft.partner):
            if person is not None:
                self._find_or_create(person)
        new_case = NewCasePage(self.page, self.labels).open()
        new_case.fill(self.draft)
        self.absent = False  # from the click on, only a new search can tell
        self.hooks.before_submit()
        self.submitted = True
        upload = new_case.save()
        number = upload.case_number()
        self.zaak = self.known_zaak = number
        self.upload_url = self.page.url
        log.info("casesystem.case_created", reference=self.draft.reference, zaak=number)
        if self.hooks.after_submit is not None:
            self.hooks.after_submit(number)
        return upload

    def _find_or_create(self, person: PersonDraft) -> None:
        """Make sure the person exists; remembered for this call (persons are never removed)."""
        if person.bsn in self.persons_present:
            return
        search = PersonSearchPage(self.page, self.labels).open()
        if not search.search(person.bsn):
            PersonFormPage(self.page, self.labels).create(person)
        self.persons_present.add(person.bsn)

    def _upload_missing(self, upload: UploadPage) -> None:
        """Upload each draft document not yet on the zaak (by file name and type, counting repeats)."""
        present = Counter(upload.documents())
        for document in self.draft.documents:
            key = (normalise_text(document.filename), self.labels.document_types[document.document_type])
            if present[key] > 0:
                present[key] -= 1
                continue
            upload.upload(document)
            if document.filename not in self.uploaded:
                self.uploaded.append(document.filename)
