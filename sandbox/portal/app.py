"""The sandbox e-forms portal's submissions API (portal-api.md), with switchable faults.

Routes (all need `Authorization: Token <token>`, else 401):

- `GET /api/v1/submissions?status=new&form=tonk&page=1`: 50 per page, oldest first,
  `next`/`previous` relative URLs or null; a page past the last answers 404 (as Django
  REST framework does), page 1 of nothing is an empty list.
- `GET /api/v1/submissions/{reference}/attachments/{id}`: the bytes with their content type.
- `POST /api/v1/submissions/{reference}/ack` with `{"status": "received", "external_reference": "..."}`:
  200 every time; the first acknowledgement is the one recorded.
- With `control=True` only (tests, demos): `GET|PUT /_control/faults`, `POST /_control/reset`,
  `GET /_control/submissions` (every submission with status and acknowledgement).

Injected 5xx answers look like a gateway's (HTML, before authentication), as a real
proxy in front of a portal would give them.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict

from sandbox.portal.faults import OTHER_RUNNER, Faults, FaultState
from sandbox.portal.store import NEW, RECEIVED, NotFound, PortalStore, Submission

PAGE_SIZE = 50
API = "/api/v1/submissions"

_REASONS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class InjectedFault(Exception):
    """Raised by the fault gate; turned into a gateway-style HTML error page."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Ack(BaseModel):
    """The acknowledgement body of portal-api.md."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["received"]
    external_reference: str | None = None


def _page_url(status: str | None, form: str | None, page: int) -> str:
    params = {k: v for k, v in (("status", status), ("form", form)) if v is not None}
    return f"{API}?{urlencode({**params, 'page': page})}"


def create_app(store: PortalStore, token: str, faults: Faults | None = None, *, control: bool = False,
               sleep: Callable[[float], None] = time.sleep) -> FastAPI:
    """The portal app over `store`, accepting `token`; `faults` switched on from the start.

    `sleep` is how slow responses wait (injectable so tests need not wait). Raises
    ValueError for an empty token.
    """
    if not token:
        raise ValueError("the portal needs a non-empty token")
    state = FaultState(faults)
    app = FastAPI(title="Sandbox e-formulierenportaal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.faults = state
    app.state.store = store

    @app.exception_handler(InjectedFault)
    def _gateway_error(_: Request, exc: InjectedFault) -> HTMLResponse:
        reason = _REASONS.get(exc.status, "Server Error")
        return HTMLResponse(f"<html><head><title>{exc.status} {reason}</title></head><body><center><h1>"
                            f"{exc.status} {reason}</h1></center><hr><center>nginx</center></body></html>\n",
                            status_code=exc.status)

    def fault_gate() -> None:
        delay, status = state.request_outcome()
        if delay:
            sleep(delay)
        if status is not None:
            raise InjectedFault(status)

    def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme != "Token" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise HTTPException(401, "Authentication credentials were not provided or are invalid.",
                                headers={"WWW-Authenticate": "Token"})

    api = [Depends(fault_gate), Depends(authorised)]

    def present(sub: Submission) -> dict[str, Any]:
        return {
            "reference": sub.reference,
            "form": sub.form,
            "submitted_at": sub.submitted_at,
            "data": sub.data,
            "attachments": [{
                "id": att.id,
                "document_type": att.document_type,
                "filename": att.filename,
                "content_type": att.content_type,
                "size": state.listed_size(att.id, att.filename, att.size),
                "url": f"{API}/{sub.reference}/attachments/{att.id}",
            } for att in sub.attachments],
        }

    @app.get(API, dependencies=api)
    def list_submissions(status: Annotated[Literal["new", "received"] | None, Query()] = None,
                         form: Annotated[str | None, Query()] = None,
                         page: Annotated[int, Query(ge=1)] = 1) -> dict[str, Any]:
        count, results = store.page(status, form, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        if page > 1 and not results:
            raise HTTPException(404, "Invalid page.")
        has_next = page * PAGE_SIZE < count
        body = {
            "count": count,
            "next": _page_url(status, form, page + 1) if has_next else None,
            "previous": _page_url(status, form, page - 1) if page > 1 else None,
            "results": [present(sub) for sub in results],
        }
        steal = state.faults.ack_between_pages
        if steal and has_next:
            for sub in results[:steal]:
                store.acknowledge(sub.reference, OTHER_RUNNER, actor=OTHER_RUNNER)
        return body

    @app.get(API + "/{reference}/attachments/{attachment_id}", dependencies=api)
    def download(reference: str, attachment_id: str) -> Response:
        try:
            att = store.attachment(reference, attachment_id)
        except NotFound:
            raise HTTPException(404, "Not found.") from None
        if state.attachment_missing(att.id, att.filename):
            raise HTTPException(404, "Not found.")
        return Response(state.served_bytes(att.id, att.filename, att.data), media_type=att.content_type,
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(att.filename)}"})

    @app.post(API + "/{reference}/ack", dependencies=api)
    def acknowledge(reference: str, ack: Ack) -> dict[str, Any]:
        try:
            sub = store.acknowledge(reference, ack.external_reference, actor="api")
        except NotFound:
            raise HTTPException(404, "Not found.") from None
        return {"reference": sub.reference, "status": sub.status, "external_reference": sub.external_reference,
                "acknowledged_at": sub.acknowledged_at}

    if control:
        ctl = [Depends(authorised)]

        @app.get("/_control/faults", dependencies=ctl)
        def get_faults() -> dict[str, Any]:
            return state.faults.model_dump()

        @app.put("/_control/faults", dependencies=ctl)
        def put_faults(new: Faults) -> dict[str, Any]:
            state.replace(new)
            return new.model_dump()

        @app.post("/_control/reset", dependencies=ctl)
        def reset() -> dict[str, int]:
            return {"reset": store.reset()}

        @app.get("/_control/submissions", dependencies=ctl)
        def all_submissions() -> JSONResponse:
            return JSONResponse([{"reference": s.reference, "form": s.form, "status": s.status,
                                  "acknowledged_by": s.acknowledged_by, "external_reference": s.external_reference,
                                  "ack_count": s.ack_count} for s in store.all()])

    return app


__all__ = ["NEW", "PAGE_SIZE", "RECEIVED", "create_app"]
