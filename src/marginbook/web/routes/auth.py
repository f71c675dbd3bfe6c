"""The login form for a dashboard bound beyond loopback, and the CSRF token for API clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from marginbook.web import security
from marginbook.web.deps import CsrfChecked, SettingsDep, csrf_token_for, render

router = APIRouter()


class CsrfOut(BaseModel):
    """The token to send in ``X-CSRF-Token`` with this client's cookie on unsafe API calls."""

    csrf_token: str


@router.get("/api/csrf", response_model=CsrfOut, tags=["security"])
def csrf(request: Request, response: Response) -> CsrfOut:
    """A CSRF token for API clients that use cookies; it is also set as the ``mb_csrf`` cookie."""
    token = csrf_token_for(request)
    response.set_cookie(security.CSRF_COOKIE, token, httponly=True, samesite="strict")
    return CsrfOut(csrf_token=token)


@router.get("/login", include_in_schema=False)
def login_page(request: Request, settings: SettingsDep) -> Response:
    """The token form (only meaningful when the dashboard requires a token)."""
    return render(request, "login.html", {"required": settings.token_hash is not None, "error": ""})


@router.post("/login", include_in_schema=False, dependencies=[CsrfChecked])
def login(request: Request, settings: SettingsDep, token: Annotated[str, Form()] = "") -> Response:
    """Check the token; on success keep it in an HttpOnly, same-site cookie."""
    if settings.token_hash is None or not security.token_matches(token, settings.token_hash):
        return render(
            request, "login.html", {"required": True, "error": "That token is not right."}, status_code=401
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        security.TOKEN_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response
