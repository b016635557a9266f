"""Page objects: one class per screen of the case system, locating by role and label only.

No XPath, no generated ids, no CSS of wrappers: the texts come from `CaseSystemLabels`,
so a reskinned case system (other element order, ids and classes) works unchanged.
Every wait is Playwright's own (a locator becoming visible, within the context's
default timeout) on the condition that shows the step is done (the next screen, the
new row in the document list, the loaded search results); nothing sleeps.

Speed (bench/results/registration.md): each Playwright call is a round trip to the
browser, so a screen is checked with one wait and one look in the usual case, a table
is read in one call, a search screen that already shows is not loaded again, and a
freshly opened form gets only the values the draft has.

Each screen checks on arrival that it is the screen expected and raises:
- `SessionExpired` (a SystemException, code `casesystem.session_expired`) when the
  login form appears instead: the caller logs in again and carries on;
- `ServerError` (a SystemException, code `casesystem.server_error`) on the case
  system's error page or a failed search: the caller may start the steps over;
- `SystemException("casesystem.rejected")` when a form comes back with errors, naming
  each field and message (labels, never the values typed);
- `SystemException("page.unexpected")` when neither the screen nor one of the above appears.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from datetime import date
from decimal import Decimal

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from common.errors import SystemException
from tonk_bot.casesystem.draft import CaseDraft, DocumentDraft, PersonDraft
from tonk_bot.casesystem.labels import CaseSystemLabels


class SessionExpired(SystemException):
    """The case system showed its login form: the session is gone (expired, server restarted)."""

    def __init__(self, where: str) -> None:
        super().__init__("casesystem.session_expired", f"login form shown instead of {where!r}")


class ServerError(SystemException):
    """The case system answered with its error page (HTTP 5xx) or a failed search: often transient."""

    def __init__(self, message: str) -> None:
        super().__init__("casesystem.server_error", message)


#: each row (role row) of a table as [[is header cell, innerText], ...]: one round trip for the whole table
_ROW_CELLS_JS = "rows => rows.map(r => Array.from(r.cells, c => [c.tagName === 'TH', c.innerText]))"


def normalise_text(text: str) -> str:
    """NFC, whitespace collapsed: how a name looks after a trip through HTML (for comparing names)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def read_table(table: Locator) -> list[dict[str, str]]:
    """The rows of an HTML table as dicts keyed by column header text (column order does not matter).

    One round trip, no wait (call it once the table shows): the header row is the row of header
    cells only; each row with data cells gives one dict of its data cells (a row header is no column).
    """
    rows: list[list[list[object]]] = table.get_by_role("row").evaluate_all(_ROW_CELLS_JS)
    headers: list[str] = []
    records = []
    for row in rows:
        if row and all(is_header for is_header, _ in row):
            headers = headers or [normalise_text(str(text)) for _, text in row]
            continue
        cells = [normalise_text(str(text)) for is_header, text in row if not is_header]
        if cells:
            records.append(dict(zip(headers, cells, strict=False)))
    return records


class Screen:
    """What every screen shares: the page, the labels, arrival checks, the error summary, the menu."""

    #: the `CaseSystemLabels` attribute with this screen's level-1 heading
    heading_label = ""

    def __init__(self, page: Page, labels: CaseSystemLabels) -> None:
        self.page = page
        self.labels = labels

    @property
    def name(self) -> str:
        return getattr(self.labels, self.heading_label) if self.heading_label else type(self).__name__

    def heading(self) -> Locator:
        return self.page.get_by_role("heading", name=self.name, level=1, exact=True)

    def login_form(self) -> Locator:
        return self.page.get_by_role("form", name=self.labels.login_form, exact=True)

    def error_page(self) -> Locator:
        names = "|".join(re.escape(h) for h in self.labels.error_headings)
        return self.page.get_by_role("heading", name=re.compile(f"^({names})$"), level=1)

    def error_summary(self) -> Locator:
        return self.page.get_by_role("alert").filter(
            has=self.page.get_by_role("heading", name=self.labels.error_summary_title, exact=True))

    def arrive(self, expected: Locator | None = None, *also: Locator) -> Locator:
        """Wait until this screen (or `expected`), one of `also`, the login form or an error page shows.

        Returns the locator that showed (`expected` or one of `also`, looked at in that order).
        Two round trips when the expected one shows: one wait for any of them, one look.

        Raises:
            SessionExpired, ServerError, SystemException("page.unexpected").
        """
        expected = expected if expected is not None else self.heading()
        login, error = self.login_form(), self.error_page()
        any_of = expected
        for other in (*also, login, error):
            any_of = any_of.or_(other)
        try:
            any_of.first.wait_for(state="visible")
        except PlaywrightTimeoutError as exc:
            raise SystemException("page.unexpected", f"{self.name!r} did not appear (page title "
                                  f"{self._title()!r})") from exc
        for candidate in (expected, *also):
            if candidate.first.is_visible():
                return candidate
        if login.first.is_visible():
            raise SessionExpired(self.name)
        if error.first.is_visible():
            raise ServerError(f"the case system showed {error.first.inner_text()!r} instead of {self.name!r}")
        raise SystemException("page.unexpected", f"{self.name!r} vanished while it was read")

    def is_shown(self) -> bool:
        """Whether this screen shows now (its heading; one look, no wait)."""
        return self.heading().is_visible()

    def raise_if_rejected(self, form_name: str) -> None:
        """Raise SystemException("casesystem.rejected") naming each field error in the error summary."""
        summary = self.error_summary()
        if summary.count():
            problems = [normalise_text(t) for t in summary.get_by_role("listitem").all_inner_texts()]
            raise SystemException("casesystem.rejected",
                                  f"the case system refused {form_name!r}: {'; '.join(problems)}")

    def _title(self) -> str:
        try:
            return self.page.title()
        except PlaywrightError:
            return "?"

    def menu(self, item: str) -> None:
        """Click `item` in the main menu; when no menu shows, wait for it (or raise as `arrive` does)."""
        nav = self.page.get_by_role("navigation", name=self.labels.main_menu, exact=True)
        if not nav.first.is_visible():
            Screen.arrive(self, nav)
        nav.get_by_role("link", name=item, exact=True).click()

    def case_number(self) -> str:
        """The zaak number shown on this screen, checked against `case_number_pattern`."""
        text = self.page.get_by_test_id(self.labels.case_number_test_id).first.inner_text().strip()
        if not re.fullmatch(self.labels.case_number_pattern, text):
            raise SystemException("page.unexpected", f"{self.name!r}: {text!r} is not a zaak number")
        return text

    def _fill_date(self, field: Locator, value: date | None) -> None:
        """Fill a date: ISO for `<input type=date>`, else `labels.date_format`."""
        if value is None:
            field.fill("")
        elif field.get_attribute("type") == "date":
            field.fill(value.isoformat())
        else:
            field.fill(value.strftime(self.labels.date_format))

    def _amount(self, value: Decimal | None) -> str:
        return "" if value is None else f"{value:.2f}".replace(".", self.labels.decimal_mark)


class LoginPage(Screen):
    """`/inloggen`: user name, password, "Inloggen"."""

    heading_label = "login_form"

    def is_shown(self) -> bool:
        return self.login_form().is_visible()

    def login(self, username: str, password: str) -> None:
        """Log in and wait for the main menu. Call it inside the browser session's `untraced()`:
        a trace would record the password typed.

        Raises:
            SystemException("casesystem.login_failed"): the case system refused the credentials.
            SessionExpired: the login form came back without a reason (e.g. its form expired): log in again.
            ServerError: the case system answered with its error page.
        """
        form = self.login_form()
        form.wait_for(state="visible")
        form.get_by_label(self.labels.username, exact=True).fill(username)
        form.get_by_label(self.labels.password, exact=True).fill(password)
        form.get_by_role("button", name=self.labels.login_button, exact=True).click()
        menu = self.page.get_by_role("navigation", name=self.labels.main_menu, exact=True)
        refused = self.page.get_by_text(self.labels.login_failed, exact=True)
        error = self.error_page()
        try:
            menu.or_(refused).or_(error).or_(form).first.wait_for(state="visible")
        except PlaywrightTimeoutError as exc:
            raise SystemException("page.unexpected", "no main menu after logging in") from exc
        if menu.first.is_visible():
            return
        if refused.first.is_visible():
            raise SystemException("casesystem.login_failed", f"the case system refused the login of {username!r}")
        if error.first.is_visible():
            raise ServerError(f"the case system showed {error.first.inner_text()!r} after logging in")
        raise SessionExpired("login")


class PersonSearchPage(Screen):
    """`Persoon zoeken`: search by BSN; shows "Gevonden persoon" or "Geen persoon gevonden"."""

    heading_label = "person_search_heading"

    def open(self) -> PersonSearchPage:
        """Go to "Persoon zoeken" through the menu, unless it shows already (its search form is on it)."""
        if not self.is_shown():
            self.menu(self.labels.menu_persons)
            self.arrive()
        return self

    def search(self, bsn: str) -> bool:
        """Search `bsn`; True when the person exists (the found block shows this BSN)."""
        form = self.page.get_by_role("form", name=self.labels.person_search_form, exact=True)
        form.get_by_label(self.labels.person_search_bsn, exact=True).fill(bsn)
        form.get_by_role("button", name=self.labels.search_button, exact=True).click()
        found = self.page.get_by_role("region", name=self.labels.person_found_region, exact=True).filter(
            has=self.page.get_by_text(bsn, exact=True))
        missing = self.page.get_by_text(self.labels.person_not_found, exact=True)
        return self.arrive(found, missing) is found


class PersonFormPage(Screen):
    """"Persoon aanmaken", shown under "Geen persoon gevonden"."""

    heading_label = "person_form"

    def create(self, person: PersonDraft) -> None:
        """Fill and submit the form; returns when the new person is shown as found.

        Expects the fresh form shown under "Geen persoon gevonden": it types the person's given
        values and leaves the fields the person has no value for as they are (empty).

        Raises:
            SystemException("casesystem.rejected"): the form came back with errors (fields named).
        """
        form = self.page.get_by_role("form", name=self.labels.person_form, exact=True)
        fields = self.labels.person_fields
        for name, label in fields.items():
            value = getattr(person, name)
            if value is None or value == "":
                continue
            field = form.get_by_label(label, exact=True)
            if isinstance(value, date):
                self._fill_date(field, value)
            else:
                field.fill(str(value))
        form.get_by_role("button", name=self.labels.person_create_button, exact=True).click()
        found = self.page.get_by_role("region", name=self.labels.person_found_region, exact=True).filter(
            has=self.page.get_by_text(person.bsn, exact=True))
        if self.arrive(found, self.error_summary()) is not found:
            self.raise_if_rejected(self.labels.person_form)


class UploadPage(Screen):
    """"Documenten toevoegen": upload documents with their type, list them, "Afronden"."""

    heading_label = "upload_heading"

    def __init__(self, page: Page, labels: CaseSystemLabels) -> None:
        super().__init__(page, labels)
        self._listed: list[tuple[str, str]] | None = None

    def documents(self) -> list[tuple[str, str]]:
        """(file name, document type) of each document on the zaak, as listed (read once per screen).

        Read when the screen's whole HTML is in (DOMContentLoaded), so no row is missed.
        """
        if self._listed is None:
            self.page.wait_for_load_state("domcontentloaded")
            table = self.page.get_by_role("table", name=self.labels.uploaded_table, exact=True)
            self._listed = [(r.get(self.labels.column_filename, ""), r.get(self.labels.column_document_type, ""))
                            for r in read_table(table)]
        return list(self._listed)

    def upload(self, document: DocumentDraft) -> None:
        """Upload `document` under its own file name and type; returns when the list shows one more of it.

        Waits for that row (or the form's errors), not for the screen: the screen shows before it too.

        Raises:
            SystemException("document.checksum_mismatch"): the stored file is not the one recorded.
            SystemException("casesystem.rejected" | "casesystem.upload_not_listed").
        """
        data = document.path.read_bytes()
        if hashlib.sha256(data).hexdigest() != document.sha256:
            raise SystemException("document.checksum_mismatch", f"stored file {document.path.name} changed")
        type_label = self.labels.document_types[document.document_type]
        key = (normalise_text(document.filename), type_label)
        listed = self.documents()
        before = listed.count(key)
        form = self.page.get_by_role("form", name=self.labels.upload_form, exact=True)
        mime = mimetypes.guess_type(document.filename)[0] or "application/octet-stream"
        form.get_by_label(self.labels.upload_file, exact=True).set_input_files(
            {"name": document.filename, "mimeType": mime, "buffer": data})
        form.get_by_label(self.labels.upload_type, exact=True).select_option(label=type_label)
        form.get_by_role("button", name=self.labels.upload_button, exact=True).click()
        self._listed = None
        table = self.page.get_by_role("table", name=self.labels.uploaded_table, exact=True)
        rows = table.get_by_role("row").filter(
            has=self.page.get_by_role("cell", name=document.filename, exact=True)).filter(
            has=self.page.get_by_role("cell", name=type_label, exact=True))
        one_more, errors, screen = rows.nth(before), self.error_summary(), self.heading()
        shown = self.arrive(one_more, errors, screen)
        if shown is one_more:
            self._listed = [*listed, key]
            return
        listed_now = self.documents()  # the screen showed first: read it whole, then judge
        self.raise_if_rejected(self.labels.upload_form)
        if listed_now.count(key) <= before:
            raise SystemException("casesystem.upload_not_listed", f"uploaded {document.document_type} not listed")

    def finish(self) -> ConfirmationPage:
        """Click "Afronden" and arrive at the confirmation."""
        form = self.page.get_by_role("form", name=self.labels.finish_form, exact=True)
        form.get_by_role("button", name=self.labels.finish_button, exact=True).click()
        confirmation = ConfirmationPage(self.page, self.labels)
        confirmation.arrive()
        return confirmation


class ConfirmationPage(Screen):
    """"Zaak geregistreerd" with the zaak number."""

    heading_label = "confirmation_heading"


class NewCasePage(Screen):
    """"Nieuwe zaak" for zaaktype TONK."""

    heading_label = "new_case_heading"

    def open(self) -> NewCasePage:
        """Open an empty "Nieuwe zaak" form through the menu (always a fresh one)."""
        self.menu(self.labels.menu_new_case)
        self.arrive()
        return self

    def fill(self, draft: CaseDraft) -> None:
        """Type and select the fields of `draft` into the empty form `open()` gave.

        Fields the draft has no value for (no partner, an amount not given, no toelichting) and
        months not asked for are left as the fresh form has them: empty, unchecked.
        """
        form = self.page.get_by_role("form", name=self.labels.new_case_form, exact=True)
        f = self.labels.case_fields

        def field(name: str) -> Locator:
            return form.get_by_label(f[name], exact=True)

        field("zaaktype").select_option(label=self.labels.zaaktype_tonk)
        field("omschrijving").fill(draft.omschrijving)
        self._fill_date(field("startdatum"), draft.startdatum)
        field("kanaal").select_option(label=self.labels.channels[draft.kanaal])
        field("reference").fill(draft.reference)
        field("initiator").fill(draft.initiator.bsn)
        if draft.partner is not None:
            field("partner").fill(draft.partner.bsn)
        for name, amount in draft.amounts().items():
            if amount is not None:
                field(name).fill(self._amount(amount))
        months = form.get_by_role("group", name=self.labels.months_group, exact=True)
        for month, label in self.labels.months.items():
            if month in draft.maanden:
                months.get_by_label(label, exact=True).check()
        field("iban").fill(draft.iban)
        field("rekeninghouder").fill(draft.rekeninghouder)
        if draft.toelichting:
            field("toelichting").fill(draft.toelichting)
        field("note").fill(draft.note)

    def save(self) -> UploadPage:
        """Click "Opslaan"; returns the upload screen of the new zaak.

        Raises:
            SystemException("casesystem.rejected"): the form came back with errors (fields named).
        """
        form = self.page.get_by_role("form", name=self.labels.new_case_form, exact=True)
        form.get_by_role("button", name=self.labels.save_button, exact=True).click()
        upload = UploadPage(self.page, self.labels)
        screen = upload.heading()
        if upload.arrive(screen, self.error_summary()) is not screen:
            self.raise_if_rejected(self.labels.new_case_form)
        return upload


class CaseDetailPage(Screen):
    """"Zaakdetails": fields, persons, documents, "Documenten toevoegen"."""

    heading_label = "case_detail_heading"

    def documents(self) -> list[tuple[str, str]]:
        """(file name, document type) of each document on the zaak (once the screen's HTML is in)."""
        self.page.wait_for_load_state("domcontentloaded")
        table = self.page.get_by_role("table", name=self.labels.documents_table, exact=True)
        return [(r.get(self.labels.column_filename, ""), r.get(self.labels.column_document_type, ""))
                for r in read_table(table)]

    def add_documents(self) -> UploadPage:
        self.page.get_by_role("link", name=self.labels.add_documents_link, exact=True).click()
        upload = UploadPage(self.page, self.labels)
        upload.arrive()
        return upload


class CaseSearchPage(Screen):
    """"Zaken zoeken" by extern kenmerk; results load after a delay ("Bezig met zoeken...")."""

    heading_label = "case_search_heading"

    def open(self) -> CaseSearchPage:
        """Go to "Zaken zoeken" through the menu, unless it shows already (after logging in, it does)."""
        if not self.is_shown():
            self.menu(self.labels.menu_case_search)
            self.arrive()
        return self

    def search(self, reference: str) -> list[dict[str, str]]:
        """The result rows (by column header) whose extern kenmerk is exactly `reference`.

        Waits for the loaded state (the results table or "Geen resultaten"), never for a time:
        a search that has not answered yet is not mistaken for "no case".

        Raises:
            ServerError: the search itself failed.
        """
        form = self.page.get_by_role("form", name=self.labels.case_search_form, exact=True)
        form.get_by_label(self.labels.case_search_reference, exact=True).fill(reference)
        form.get_by_role("button", name=self.labels.search_button, exact=True).click()
        region = self.page.get_by_role("region", name=self.labels.results_region, exact=True)
        table = region.get_by_role("table", name=self.labels.results_table, exact=True)
        none = region.get_by_text(self.labels.no_results, exact=True)
        failed = region.get_by_text(self.labels.search_failed, exact=True)
        shown = self.arrive(table, none, failed)
        if shown is failed:
            raise ServerError("the case search failed")
        if shown is none:
            return []
        wanted = normalise_text(reference)
        return [r for r in read_table(table) if r.get(self.labels.column_reference) == wanted]

    def open_case(self, number: str) -> CaseDetailPage:
        """Click zaak `number` in the results and arrive at its detail page."""
        region = self.page.get_by_role("region", name=self.labels.results_region, exact=True)
        region.get_by_role("link", name=number, exact=True).click()
        detail = CaseDetailPage(self.page, self.labels)
        detail.arrive()
        if detail.case_number() != number:
            raise SystemException("page.unexpected", f"opened {number} but the detail page shows another zaak")
        return detail
