"""Page objects: one class per screen of the case system, locating by role and label only.

No XPath, no generated ids, no CSS of wrappers: the texts come from `CaseSystemLabels`,
so a reskinned case system (other element order, ids and classes) works unchanged.
Every wait is Playwright's own (a locator becoming visible, within the context's
default timeout); nothing sleeps.

Each screen checks on arrival that it is the screen expected and raises:
- `SessionExpired` (a SystemException, code `casesystem.session_expired`) when the
  login form appears instead: the caller logs in again and carries on;
- `SystemException("casesystem.server_error")` on the case system's error page;
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


def normalise_text(text: str) -> str:
    """NFC, whitespace collapsed: how a name looks after a trip through HTML (for comparing names)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def read_table(table: Locator) -> list[dict[str, str]]:
    """The rows of an HTML table as dicts keyed by column header text (column order does not matter)."""
    headers = [normalise_text(h) for h in table.get_by_role("columnheader").all_inner_texts()]
    rows = []
    for row in table.get_by_role("row").all():
        cells = row.get_by_role("cell").all_inner_texts()
        if cells:
            rows.append(dict(zip(headers, (normalise_text(c) for c in cells), strict=False)))
    return rows


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

        Returns the locator that showed (`expected` or one of `also`).

        Raises:
            SessionExpired, SystemException("casesystem.server_error" | "page.unexpected").
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
        if login.first.is_visible():
            raise SessionExpired(self.name)
        if error.first.is_visible():
            raise SystemException("casesystem.server_error", f"the case system showed "
                                  f"{error.first.inner_text()!r} instead of {self.name!r}")
        for candidate in (expected, *also):
            if candidate.first.is_visible():
                return candidate
        raise SystemException("page.unexpected", f"{self.name!r} vanished while it was read")

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
        """Click `item` in the main menu (the page must be a case system page with its menu)."""
        nav = self.page.get_by_role("navigation", name=self.labels.main_menu, exact=True)
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
        """Log in and wait for the main menu.

        Raises:
            SystemException("casesystem.login_failed"): the case system refused the credentials.
        """
        form = self.login_form()
        form.wait_for(state="visible")
        form.get_by_label(self.labels.username, exact=True).fill(username)
        form.get_by_label(self.labels.password, exact=True).fill(password)
        form.get_by_role("button", name=self.labels.login_button, exact=True).click()
        menu = self.page.get_by_role("navigation", name=self.labels.main_menu, exact=True)
        refused = self.page.get_by_text(self.labels.login_failed, exact=True)
        try:
            menu.or_(refused).first.wait_for(state="visible")
        except PlaywrightTimeoutError as exc:
            raise SystemException("page.unexpected", "no main menu after logging in") from exc
        if refused.is_visible():
            raise SystemException("casesystem.login_failed", f"the case system refused the login of {username!r}")


class PersonSearchPage(Screen):
    """`Persoon zoeken`: search by BSN; shows "Gevonden persoon" or "Geen persoon gevonden"."""

    heading_label = "person_search_heading"

    def open(self) -> PersonSearchPage:
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

        Raises:
            SystemException("casesystem.rejected"): the form came back with errors (fields named).
        """
        form = self.page.get_by_role("form", name=self.labels.person_form, exact=True)
        form.wait_for(state="visible")
        fields = self.labels.person_fields
        for name, label in fields.items():
            field = form.get_by_label(label, exact=True)
            value = getattr(person, name)
            if isinstance(value, date):
                self._fill_date(field, value)
            else:
                field.fill("" if value is None else str(value))
        form.get_by_role("button", name=self.labels.person_create_button, exact=True).click()
        found = self.page.get_by_role("region", name=self.labels.person_found_region, exact=True).filter(
            has=self.page.get_by_text(person.bsn, exact=True))
        if self.arrive(found, self.error_summary()) is not found:
            self.raise_if_rejected(self.labels.person_form)


class UploadPage(Screen):
    """"Documenten toevoegen": upload documents with their type, list them, "Afronden"."""

    heading_label = "upload_heading"

    def documents(self) -> list[tuple[str, str]]:
        """(file name, document type) of each document on the zaak, as listed."""
        table = self.page.get_by_role("table", name=self.labels.uploaded_table, exact=True)
        return [(r.get(self.labels.column_filename, ""), r.get(self.labels.column_document_type, ""))
                for r in read_table(table)]

    def upload(self, document: DocumentDraft) -> None:
        """Upload `document` under its own file name and type; returns when the list shows one more of it.

        Raises:
            SystemException("document.checksum_mismatch"): the stored file is not the one recorded.
            SystemException("casesystem.rejected" | "casesystem.upload_not_listed").
        """
        data = document.path.read_bytes()
        if hashlib.sha256(data).hexdigest() != document.sha256:
            raise SystemException("document.checksum_mismatch", f"stored file {document.path.name} changed")
        type_label = self.labels.document_types[document.document_type]
        key = (normalise_text(document.filename), type_label)
        before = self.documents().count(key)
        form = self.page.get_by_role("form", name=self.labels.upload_form, exact=True)
        mime = mimetypes.guess_type(document.filename)[0] or "application/octet-stream"
        form.get_by_label(self.labels.upload_file, exact=True).set_input_files(
            {"name": document.filename, "mimeType": mime, "buffer": data})
        form.get_by_label(self.labels.upload_type, exact=True).select_option(label=type_label)
        form.get_by_role("button", name=self.labels.upload_button, exact=True).click()
        self.arrive(self.heading(), self.error_summary())
        self.raise_if_rejected(self.labels.upload_form)
        if self.documents().count(key) <= before:
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
        self.menu(self.labels.menu_new_case)
        self.arrive()
        return self

    def fill(self, draft: CaseDraft) -> None:
        """Type and select every field of `draft` (empty optional fields are cleared)."""
        form = self.page.get_by_role("form", name=self.labels.new_case_form, exact=True)
        form.wait_for(state="visible")
        f = self.labels.case_fields

        def field(name: str) -> Locator:
            return form.get_by_label(f[name], exact=True)

        field("zaaktype").select_option(label=self.labels.zaaktype_tonk)
        field("omschrijving").fill(draft.omschrijving)
        self._fill_date(field("startdatum"), draft.startdatum)
        field("kanaal").select_option(label=self.labels.channels[draft.kanaal])
        field("reference").fill(draft.reference)
        field("initiator").fill(draft.initiator.bsn)
        field("partner").fill(draft.partner.bsn if draft.partner else "")
        for name, amount in draft.amounts().items():
            field(name).fill(self._amount(amount))
        months = form.get_by_role("group", name=self.labels.months_group, exact=True)
        for month, label in self.labels.months.items():
            months.get_by_label(label, exact=True).set_checked(month in draft.maanden)
        field("iban").fill(draft.iban)
        field("rekeninghouder").fill(draft.rekeninghouder)
        field("toelichting").fill(draft.toelichting or "")
        field("note").fill(draft.note)

    def save(self) -> UploadPage:
        """Click "Opslaan"; returns the upload screen of the new zaak.

        Raises:
            SystemException("casesystem.rejected"): the form came back with errors (fields named).
        """
        form = self.page.get_by_role("form", name=self.labels.new_case_form, exact=True)
        form.get_by_role("button", name=self.labels.save_button, exact=True).click()
        upload = UploadPage(self.page, self.labels)
        if upload.arrive(upload.heading(), self.error_summary()) is not upload.heading():
            self.raise_if_rejected(self.labels.new_case_form)
        return upload


class CaseDetailPage(Screen):
    """"Zaakdetails": fields, persons, documents, "Documenten toevoegen"."""

    heading_label = "case_detail_heading"

    def documents(self) -> list[tuple[str, str]]:
        """(file name, document type) of each document on the zaak."""
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
        self.menu(self.labels.menu_case_search)
        self.arrive()
        return self

    def search(self, reference: str) -> list[dict[str, str]]:
        """The result rows (by column header) whose extern kenmerk is exactly `reference`.

        Waits for the loaded state (the results table or "Geen resultaten"), never for a time:
        a search that has not answered yet is not mistaken for "no case".

        Raises:
            SystemException("casesystem.server_error"): the search itself failed.
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
            raise SystemException("casesystem.server_error", "the case search failed")
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
