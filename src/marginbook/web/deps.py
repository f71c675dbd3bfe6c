"""Request dependencies: the dashboard service, the settings, page rendering with a CSRF token."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from marginbook.app.dashboard import Dashboard
from marginbook.app.demo_report import two_decimals
from marginbook.domain.numbers import cents, plain
from marginbook.web import security
from marginbook.web.settings import WebSettings

TEMPLATE_DIR = Path(__file__).parent / "templates"


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{cents(value):,}"


def _quantity(value: Decimal | None) -> str:
    return "—" if value is None else plain(value)


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f} %"


def _amount(value: object) -> str:
    """A decimal string from the tax document, grouped for reading (it is already to the cent)."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)):,}"
    except ArithmeticError:
        return str(value)


def make_templates() -> Jinja2Templates:
    """The page templates with marginbook's number filters (autoescaping on)."""
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    templates.env.filters.update(
        money=_money, qty=_quantity, pct=_percent, amount=_amount, fixed2=two_decimals
    )
    return templates


def get_dashboard(request: Request) -> Dashboard:
    """The app's dashboard service."""
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


def get_settings(request: Request) -> WebSettings:
    """The app's settings."""
    settings: WebSettings = request.app.state.settings
    return settings


DashboardDep = Annotated[Dashboard, Depends(get_dashboard)]
SettingsDep = Annotated[WebSettings, Depends(get_settings)]


def csrf_token_for(request: Request) -> str:
    """The CSRF token of this browser (the cookie's), or a fresh one set by :func:`render`."""
    existing = request.cookies.get(security.CSRF_COOKIE)
    token = existing if existing and len(existing) >= 32 else security.new_secret()
    request.state.csrf_token = token
    return token


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render a page; every page carries the CSRF token its forms post back."""
    token = getattr(request.state, "csrf_token", None) or csrf_token_for(request)
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(
        request,
        template,
        {"csrf_token": token, "active": template.split(".")[0], **context},
        status_code=status_code,
    )
    if request.cookies.get(security.CSRF_COOKIE) != token:
        response.set_cookie(
            security.CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Refuse a form post whose CSRF field does not match the browser's cookie (403)."""
    if not security.csrf_valid(request.cookies.get(security.CSRF_COOKIE), csrf_token):
        raise HTTPException(
            status_code=403, detail="the form's CSRF token is missing or wrong; reload the page"
        )


CsrfChecked = Depends(check_csrf)
