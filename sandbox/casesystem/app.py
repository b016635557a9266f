"""The sandbox zaaksysteem: a server-rendered Dutch web app (FastAPI + Jinja2) on loopback.

It stands in for the municipality's case system and offers only what such a
system offers a person with a browser: pages and forms. There is no JSON API for
cases or persons (and no OpenAPI page); `/_sandbox/faults` exists only when the
server runs with `--control`, and switches faults, nothing else.

Screens: `/inloggen`, `/personen/zoeken` (search by BSN, "Persoon aanmaken"),
`/zaken/nieuw`, `/zaken/{nummer}/documenten` (upload, "Afronden"),
`/zaken/{nummer}/bevestiging`, `/zaken/zoeken` (by extern kenmerk, results load
after `search_delay_ms`), `/zaken/{nummer}` (detail).

Crash tests use the `hold` fault: the matching request is held open (after or before
its change is stored) and `GET /_sandbox/holds` shows it, so a test can kill the
robot at exactly that step (settings.HoldFault).
"""

from __future__ import annotations

import asyncio
import hmac
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.casesystem import forms
from sandbox.casesystem.sessions import COOKIE, Session, SessionStore
from sandbox.casesystem.settings import Faults, HoldFault, SandboxConfig, faults_from_json
from sandbox.casesystem.store import CaseStore, DuplicatePerson

HERE = Path(__file__).parent
SESSION_EXPIRED_MESSAGE = "Uw sessie is verlopen. Log opnieuw in."


class LoginRequired(Exception):
    """No (live) session: send the browser to the login page (a fragment request gets 401)."""

    def __init__(self, expired: bool, fragment: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired
        self.fragment = fragment


class BadForm(Exception):
    """A POST without the session's CSRF token."""


@dataclass
class _Held:
    """One request held open by the `hold` fault, until `release` is set."""

    method: str
    path: str
    after_commit: bool
    since: float
    loop: asyncio.AbstractEventLoop
    release: asyncio.Event

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "after_commit": self.after_commit,
                "seconds": round(time.monotonic() - self.since, 3)}


@dataclass
class _State:
    config: SandboxConfig
    store: CaseStore
    sessions: SessionStore
    faults: Faults
    rng: random.Random
    rng_lock: threading.Lock
    hold_matches: int = 0
    holds_started: int = 0
    held: list[_Held] = field(default_factory=list)

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults; every request held so far is let go (from any thread)."""
        with self.rng_lock:
            self.faults = faults
            self.rng = random.Random(faults.seed)
            self.hold_matches = self.holds_started = 0
            released, self.held = self.held, []
        for held in released:
            held.loop.call_soon_threadsafe(held.release.set)

    def take_hold(self, faults: Faults, method: str, path: str) -> bool:
        """Whether this request is the one `faults.hold` holds (its nth match, once per setting)."""
        hold = faults.hold
        if hold is None or method != hold.method or not re.fullmatch(hold.path, path):
            return False
        with self.rng_lock:
            if faults is not self.faults:
                return False
            self.hold_matches += 1
            if self.hold_matches != hold.nth:
                return False
            self.holds_started += 1
            return True

    def draw_failure(self) -> bool:
        rate = self.faults.error_rate
        if rate <= 0:
            return False
        with self.rng_lock:
            return self.rng.random() < rate


def _nl_date(value: object) -> str:
    if not value:
        return ""
    parsed = forms.parse_date(str(value))
    return parsed.strftime("%d-%m-%Y") if parsed else str(value)


def _nl_amount(value: object) -> str:
    if value in (None, ""):
        return ""
    amount = Decimal(str(value))
    whole, cents = f"{amount:,.2f}".split(".")
    return f"€ {whole.replace(',', '.')},{cents}"


def _nl_size(value: object) -> str:
    size = int(value or 0)
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} kB".replace(".", ",")
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")


def _full_name(person: dict[str, Any]) -> str:
    return " ".join(p for p in (person.get("voornamen"), person.get("tussenvoegsel"), person.get("achternaam")) if p)


def _address(person: dict[str, Any]) -> str:
    number = " ".join(str(p) for p in (person.get("huisnummer"), person.get("toevoeging")) if p)
    return f"{person.get('straat')} {number}, {person.get('postcode')} {person.get('woonplaats')}"


def _form_value(value: object) -> object:
    """A cleaned value as the form shows it again (dates ISO for date inputs, amounts with a comma)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    return value


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not target.startswith("/inloggen"):
        return target
    return "/"


def create_app(config: SandboxConfig) -> FastAPI:
    """Build the case system app for `config` (database, users, faults, control endpoints)."""
    app = FastAPI(title="Zaaksysteem", docs_url=None, redoc_url=None, openapi_url=None)
    state = _State(
        config=config,
        store=CaseStore(config.db_path, config.files_dir, config.number_year),
        sessions=SessionStore(config.session_idle_seconds),
        faults=config.faults,
        rng=random.Random(config.faults.seed),
        rng_lock=threading.Lock(),
    )
    app.state.sandbox = state
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(datum=_nl_date, bedrag=_nl_amount, grootte=_nl_size, naam=_full_name,
                                 adres=_address)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # --- cross-cutting: faults, login, CSRF, rendering ------------------------------------------

    @app.middleware("http")
    async def faults_middleware(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if path.startswith(("/static/", "/_sandbox/")):
            return await call_next(request)
        faults = state.faults
        if faults.slow_ms:
            await asyncio.sleep(faults.slow_ms / 1000)
        if state.draw_failure():
            return render(request, "fout.html", None, status=500, title="Er is een fout opgetreden",
                          message="Interne serverfout. Probeer het later opnieuw.")
        if faults.hold is not None and state.take_hold(faults, request.method, path):
            return await held_request(request, call_next, faults.hold)
        return await call_next(request)

    async def held_request(request: Request, call_next: Any, hold: HoldFault) -> Response:
        """Answer after the hold ends; without `after_commit` the request is never handled (503)."""
        held = _Held(request.method, request.url.path, hold.after_commit, time.monotonic(),
                     asyncio.get_running_loop(), asyncio.Event())
        response = await call_next(request) if hold.after_commit else None
        with state.rng_lock:
            state.held.append(held)
        try:
            await asyncio.wait_for(held.release.wait(), timeout=hold.max_seconds)
        except TimeoutError:
            pass  # held long enough: answer now
        finally:
            with state.rng_lock:
                if held in state.held:
                    state.held.remove(held)
        if response is not None:
            return response
        return render(request, "fout.html", None, status=503, title="Er is een fout opgetreden",
                      message="Het verzoek is niet verwerkt (sandbox: vastgehouden).")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        if exc.fragment:
            return PlainTextResponse("Niet ingelogd", status_code=401)
        query = "verlopen=1" if exc.expired else ""
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            query = "&".join(filter(None, [query, f"next={quote(target, safe='')}"]))
        return RedirectResponse(f"/inloggen{'?' + query if query else ''}", status_code=303)

    @app.exception_handler(BadForm)
    async def bad_form(request: Request, exc: BadForm) -> Response:
        return render(request, "fout.html", None, status=400, title="Formulier verlopen",
                      message="Het formulier is verlopen of ongeldig. Open de pagina opnieuw.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = "Pagina niet gevonden" if exc.status_code == 404 else "Er is een fout opgetreden"
        return render(request, "fout.html", None, status=exc.status_code, title=title, message=str(exc.detail))

    def render(request: Request, template: str, session: Session | None, status: int = 200,
               **context: Any) -> HTMLResponse:
        flash = list(session.flash) if session else []
        if session:
            session.flash.clear()
        context.update(alt=state.faults.layout == "alternate", session=session,
                       user=session.user if session else None, csrf=session.csrf if session else "",
                       flash=flash, search_delay_ms=state.faults.search_delay_ms)
        return templates.TemplateResponse(request, template, context, status_code=status)

    def logged_in(request: Request, fragment: bool = False) -> Session:
        cookie = request.cookies.get(COOKIE)
        session = state.sessions.get(cookie)
        if session is None or session.user is None:
            raise LoginRequired(expired=cookie is not None, fragment=fragment)
        limit = state.faults.session_expiry_requests
        if limit and state.sessions.count_request(session) > limit:
            state.sessions.drop(session.id)
            raise LoginRequired(expired=True, fragment=fragment)
        return session

    def check_csrf(session: Session, form: FormData) -> None:
        token = form.get("csrf_token")
        if not isinstance(token, str) or not hmac.compare_digest(token, session.csrf):
            raise BadForm()

    def fault_errors(groups_fields: set[str]) -> dict[str, str]:
        fault = state.faults.validation_error
        if fault and fault.field in groups_fields:
            return {fault.field: fault.message}
        return {}

    def with_cookie(response: Response, session: Session) -> Response:
        response.set_cookie(COOKIE, session.id, httponly=True, samesite="lax", path="/")
        return response

    # --- login ----------------------------------------------------------------------------------

    @app.get("/inloggen", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/", verlopen: str = "") -> Response:
        session = state.sessions.get(request.cookies.get(COOKIE))
        if session is not None and session.user is not None:
            return RedirectResponse(_safe_next(next), status_code=303)
        session = session or state.sessions.new()
        notice = SESSION_EXPIRED_MESSAGE if verlopen else ""
        return with_cookie(render(request, "login.html", session, next=_safe_next(next), notice=notice,
                                  error="", username=""), session)

    @app.post("/inloggen", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("gebruikersnaam") or "").strip()
        password = str(form.get("wachtwoord") or "")
        target = _safe_next(str(form.get("next") or "/"))
        session = state.sessions.get(request.cookies.get(COOKIE))
        if session is None or session.user is not None:
            session = state.sessions.new()
            return with_cookie(render(request, "login.html", session, status=400, next=target,
                                      notice=SESSION_EXPIRED_MESSAGE, error="", username=username), session)
        token = form.get("csrf_token")
        if not isinstance(token, str) or not hmac.compare_digest(token, session.csrf):
            return with_cookie(render(request, "login.html", session, status=400, next=target, notice="",
                                      error="Het formulier is verlopen. Probeer het opnieuw.",
                                      username=username), session)
        expected = state.config.users.get(username)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            return with_cookie(render(request, "login.html", session, status=200, next=target, notice="",
                                      error="Onjuiste gebruikersnaam of wachtwoord.", username=username), session)
        state.sessions.drop(session.id)
        fresh = state.sessions.new(user=username)
        return with_cookie(RedirectResponse(target, status_code=303), fresh)

    @app.post("/uitloggen")
    async def logout(request: Request) -> Response:
        session = logged_in(request)
        check_csrf(session, await request.form())
        state.sessions.drop(session.id)
        return RedirectResponse("/inloggen", status_code=303)

    @app.get("/")
    async def home(request: Request) -> Response:
        logged_in(request)
        return RedirectResponse("/zaken/zoeken", status_code=303)

    # --- persons --------------------------------------------------------------------------------

    person_fields = {f.name for f in forms.all_fields(forms.PERSON_GROUPS)}

    @app.get("/personen/zoeken", response_class=HTMLResponse)
    async def person_search(request: Request, bsn: str = "") -> Response:
        session = logged_in(request)
        bsn = bsn.strip()
        context: dict[str, Any] = dict(zoek_bsn=bsn, zoek_fout="", persoon=None, niet_gevonden=False,
                                       values={"bsn": bsn}, errors={},
                                       groups=forms.ordered(forms.PERSON_GROUPS, state.faults.layout))
        if bsn:
            if len(bsn) != 9 or not bsn.isdigit():
                context["zoek_fout"] = "Een BSN bestaat uit 9 cijfers"
            else:
                context["persoon"] = state.store.find_person(bsn)
                context["niet_gevonden"] = context["persoon"] is None
        return render(request, "personen.html", session, **context)

    @app.post("/personen", response_class=HTMLResponse)
    async def person_create(request: Request) -> Response:
        session = logged_in(request)
        form = await request.form()
        check_csrf(session, form)
        values, errors = forms.validate(forms.PERSON_GROUPS, {k: form.get(k) for k in person_fields})
        errors.update(fault_errors(person_fields))
        if not errors:
            try:
                state.store.create_person(values, session.user or "")
            except DuplicatePerson:
                errors["bsn"] = "Er bestaat al een persoon met dit BSN"
        if errors:
            shown = {k: (form.get(k) if k in errors else _form_value(v)) for k, v in values.items()}
            return render(request, "personen.html", session, zoek_bsn=str(form.get("bsn") or ""), zoek_fout="",
                          persoon=None, niet_gevonden=True, values=shown, errors=errors,
                          groups=forms.ordered(forms.PERSON_GROUPS, state.faults.layout),
                          error_labels={k: forms.label_of(forms.PERSON_GROUPS, k) for k in errors})
        session.flash.append("Persoon aangemaakt.")
        return RedirectResponse(f"/personen/zoeken?bsn={quote(str(values['bsn']))}", status_code=303)

    # --- new case -------------------------------------------------------------------------------

    case_fields = {f.name for f in forms.all_fields(forms.CASE_GROUPS)}

    def case_form(request: Request, session: Session, values: dict[str, Any], errors: dict[str, str],
                  status: int = 200) -> HTMLResponse:
        return render(request, "zaak_nieuw.html", session, status=status, values=values, errors=errors,
                      groups=forms.ordered(forms.CASE_GROUPS, state.faults.layout),
                      error_labels={k: forms.label_of(forms.CASE_GROUPS, k) for k in errors})

    @app.get("/zaken/nieuw", response_class=HTMLResponse)
    async def new_case(request: Request, initiator: str = "") -> Response:
        session = logged_in(request)
        return case_form(request, session, {"initiator_bsn": initiator.strip(), "maanden": []}, {})

    @app.post("/zaken", response_class=HTMLResponse)
    async def create_case(request: Request) -> Response:
        session = logged_in(request)
        form = await request.form()
        check_csrf(session, form)
        raw = {k: (form.getlist(k) if k == "maanden" else form.get(k)) for k in case_fields}
        values, errors = forms.validate(forms.CASE_GROUPS, raw)
        for key, message in forms.validate_case_rules(values).items():
            errors.setdefault(key, message)
        for key in ("initiator_bsn", "partner_bsn"):
            if values.get(key) and key not in errors and state.store.find_person(str(values[key])) is None:
                errors[key] = "Geen persoon met dit BSN gevonden"
        errors.update(fault_errors(case_fields))
        if errors:
            shown = {k: (raw[k] if k in errors else _form_value(v)) for k, v in values.items()}
            return case_form(request, session, shown, errors)
        number = state.store.create_case(values, session.user or "")
        session.flash.append(f"Zaak {number} aangemaakt.")
        return RedirectResponse(f"/zaken/{number}/documenten", status_code=303)

    # --- documents, finish, confirmation ----------------------------------------------------------

    def case_or_404(number: str) -> dict[str, Any]:
        case = state.store.case(number)
        if case is None:
            raise StarletteHTTPException(404, "Deze zaak bestaat niet.")
        return case

    def upload_page(request: Request, session: Session, case: dict[str, Any], errors: dict[str, str],
                    chosen_type: str = "") -> HTMLResponse:
        labels = {"bestand": "Bestand", "documenttype": "Documenttype"}
        return render(request, "documenten.html", session, zaak=case, errors=errors, chosen_type=chosen_type,
                      document_types=forms.DOCUMENT_TYPES, error_labels={k: labels.get(k, k) for k in errors})

    @app.get("/zaken/{number}/documenten", response_class=HTMLResponse)
    async def documents(request: Request, number: str) -> Response:
        session = logged_in(request)
        return upload_page(request, session, case_or_404(number), {})

    @app.post("/zaken/{number}/documenten", response_class=HTMLResponse)
    async def upload(request: Request, number: str) -> Response:
        session = logged_in(request)
        case = case_or_404(number)
        form = await request.form(max_part_size=state.config.max_upload_bytes)
        check_csrf(session, form)
        errors: dict[str, str] = {}
        document_type = str(form.get("documenttype") or "")
        upload_file = form.get("bestand")
        data = b""
        filename = ""
        if not isinstance(upload_file, UploadFile) or not upload_file.filename:
            errors["bestand"] = "Kies een bestand"
        else:
            data = await upload_file.read(state.config.max_upload_bytes + 1)
            filename = upload_file.filename.replace("\\", "/").rsplit("/", 1)[-1][:255]
            if not data:
                errors["bestand"] = "Het bestand is leeg"
            elif len(data) > state.config.max_upload_bytes:
                errors["bestand"] = "Het bestand is te groot"
        if document_type not in forms.DOCUMENT_TYPES:
            errors["documenttype"] = "Kies een documenttype"
        errors.update(fault_errors({"bestand", "documenttype"}))
        if errors:
            return upload_page(request, session, case, errors, chosen_type=document_type)
        state.store.add_document(number, filename, document_type, data, session.user or "")
        session.flash.append("Document geüpload.")
        return RedirectResponse(f"/zaken/{number}/documenten", status_code=303)

    @app.post("/zaken/{number}/afronden")
    async def finish(request: Request, number: str) -> Response:
        session = logged_in(request)
        check_csrf(session, await request.form())
        case_or_404(number)
        state.store.set_status(number, "geregistreerd")
        return RedirectResponse(f"/zaken/{number}/bevestiging", status_code=303)

    @app.get("/zaken/{number}/bevestiging", response_class=HTMLResponse)
    async def confirmation(request: Request, number: str) -> Response:
        session = logged_in(request)
        return render(request, "bevestiging.html", session, zaak=case_or_404(number))

    # --- search by extern kenmerk, detail -----------------------------------------------------------

    @app.get("/zaken/zoeken", response_class=HTMLResponse)
    async def case_search(request: Request, kenmerk: str = "") -> Response:
        session = logged_in(request)
        return render(request, "zoeken.html", session, kenmerk=kenmerk.strip())

    @app.get("/zaken/zoeken/resultaten", response_class=HTMLResponse)
    async def case_search_results(request: Request, kenmerk: str = "") -> Response:
        session = logged_in(request, fragment=True)
        return render(request, "_resultaten.html", session, zaken=state.store.search(kenmerk))

    @app.get("/zaken/{number}", response_class=HTMLResponse)
    async def case_detail(request: Request, number: str) -> Response:
        session = logged_in(request)
        return render(request, "zaak.html", session, zaak=case_or_404(number))

    # --- test control -----------------------------------------------------------------------------

    if config.control:
        @app.get("/_sandbox/faults")
        async def get_faults() -> JSONResponse:
            return JSONResponse(state.faults.model_dump())

        @app.get("/_sandbox/holds")
        async def get_holds() -> JSONResponse:
            """The requests held now by the `hold` fault, and how many were held since it was set."""
            with state.rng_lock:
                held = [h.as_json() for h in state.held]
                started = state.holds_started
            return JSONResponse({"held": held, "started": started})

        @app.post("/_sandbox/faults")
        async def set_faults(request: Request) -> JSONResponse:
            try:
                faults = faults_from_json((await request.body()).decode("utf-8") or "{}")
            except (ValueError, ValidationError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=422)
            state.set_faults(faults)
            return JSONResponse(faults.model_dump())

    return app
