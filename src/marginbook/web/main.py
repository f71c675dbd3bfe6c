"""Build the dashboard's FastAPI app: settings, security middleware, routers, templates."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from marginbook import __version__
from marginbook.app.background import StillComputing
from marginbook.app.dashboard import Dashboard
from marginbook.app.features import FeatureUnavailable, market_price_lookup, open_ledger
from marginbook.app.result_cache import ResultCache
from marginbook.domain.errors import InputError, MarginbookError
from marginbook.web import security
from marginbook.web.deps import make_templates
from marginbook.web.routes import assets, auth, backtests, imports, ledger, overview, positions, taxes
from marginbook.web.settings import WebSettings, is_loopback

#: Paths reachable without the access token (the login form and what it needs to render).
PUBLIC_PATHS = frozenset({"/login", "/static/style.css", "/api/health"})
#: Extra bytes allowed above the upload limit for the multipart envelope and form fields.
ENVELOPE_BYTES = 64 * 1024
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The navigation entry and title of a "computing…" page, by the first part of its path.
_PAGES = {
    "/": ("overview", "Overview"),
    "/positions": ("positions", "Positions & risk"),
    "/taxes": ("taxes", "Taxes"),
}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
}


def default_dashboard(settings: WebSettings) -> Dashboard:
    """The dashboard over the configured ledger; a missing ledger package is shown, not fatal."""
    try:
        store = open_ledger(settings.db_url)
        problem = ""
    except FeatureUnavailable as error:
        store, problem = None, str(error)
    return Dashboard(
        store,
        cache=ResultCache.for_store(store),
        store_problem=problem,
        prices=market_price_lookup(),
        price_file=settings.price_file,
        backtest_dir=settings.backtest_dir,
        export_dir=settings.export_dir,
        tax_profile=settings.tax_profile,
    )


def _host_name(header: str) -> str:
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _install_security(app: FastAPI, settings: WebSettings) -> None:
    loopback_only = is_loopback(settings.host) and settings.token_hash is None
    limit = settings.max_upload_bytes + ENVELOPE_BYTES

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if loopback_only and not is_loopback(_host_name(request.headers.get("host", ""))):
            return JSONResponse(
                {"detail": "this server answers only to a loopback host name"}, status_code=400
            )
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return JSONResponse(
                {"detail": f"request body larger than {settings.max_upload_bytes} bytes"}, status_code=413
            )
        path = request.url.path
        is_api = path.startswith("/api")
        bearer = _bearer(request)
        if settings.token_hash is not None and path not in PUBLIC_PATHS:
            token = bearer or request.cookies.get(security.TOKEN_COOKIE)
            if not security.token_matches(token, settings.token_hash):
                if is_api or request.method != "GET":
                    return JSONResponse(
                        {"detail": "an access token is required"},
                        status_code=401,
                        headers={"WWW-Authenticate": "Bearer"},
                    )
                return RedirectResponse("/login", status_code=303)
        if is_api and request.method in _UNSAFE:
            bearer_ok = settings.token_hash is not None and security.token_matches(
                bearer, settings.token_hash
            )
            if not bearer_ok and not security.csrf_valid(
                request.cookies.get(security.CSRF_COOKIE), request.headers.get(security.CSRF_HEADER)
            ):
                return JSONResponse(
                    {"detail": "send the X-CSRF-Token header (from GET /api/csrf) or a bearer token"},
                    status_code=403,
                )
        response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def create_app(settings: WebSettings, *, dashboard: Dashboard | None = None) -> FastAPI:
    """Build the dashboard app.

    Args:
        settings: how to run; a non-loopback ``host`` needs ``token_hash``.
        dashboard: the service to use (tests inject one over a fake store); default: the
            ledger at ``settings.db_url`` with the installed parts.

    Raises:
        MarginbookError: bound beyond loopback without an access token.
    """
    if not is_loopback(settings.host) and settings.token_hash is None:
        raise MarginbookError(
            f"refusing to serve on {settings.host} without an access token: "
            "only a loopback address is safe without one"
        )
    app = FastAPI(
        title="marginbook",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        description="The marginbook dashboard's JSON API. Decimal values are strings.",
    )
    app.state.settings = settings
    app.state.dashboard = dashboard if dashboard is not None else default_dashboard(settings)
    # Requests never wait for the worker thread longer than this; the CLI's dashboards block.
    app.state.dashboard.answer_within = settings.answer_within
    app.state.templates = make_templates()
    _install_security(app, settings)
    for module in (assets, auth, overview, ledger, imports, positions, taxes, backtests):
        app.include_router(module.router)

    @app.exception_handler(FeatureUnavailable)
    async def unavailable(request: Request, error: FeatureUnavailable) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": str(error)}, status_code=503)
        from marginbook.web.deps import render

        return render(request, "unavailable.html", {"message": str(error)})

    @app.exception_handler(StillComputing)
    async def computing(request: Request, error: StillComputing) -> Response:
        headers = {"Retry-After": str(error.retry_after)}
        if request.url.path.startswith("/api"):
            body = {
                "status": "computing",
                "job": error.job,
                "detail": str(error),
                "retry_after": error.retry_after,
            }
            return JSONResponse(body, status_code=202, headers=headers)
        from marginbook.web.deps import render

        page = _PAGES.get("/" + request.url.path.strip("/").split("/")[0], ("", "Computing…"))
        context = {"computing": error, "active": page[0], "title": page[1]}
        response = render(request, "computing.html", context, status_code=202)
        response.headers.update(headers)
        return response

    @app.exception_handler(InputError)
    async def bad_input(request: Request, error: InputError) -> Response:
        problems = [
            {"source": p.source, "row": p.row, "field": p.field, "problem": p.problem}
            for p in error.problems[:200]
        ]
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": str(error), "problems": problems}, status_code=400)
        from marginbook.web.deps import render

        return render(
            request, "unavailable.html", {"message": str(error), "title": "Bad input"}, status_code=400
        )

    @app.exception_handler(MarginbookError)
    async def failed(request: Request, error: MarginbookError) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": str(error)}, status_code=422)
        from marginbook.web.deps import render

        return render(
            request,
            "unavailable.html",
            {"message": str(error), "title": "Cannot compute this"},
            status_code=422,
        )

    return app


#: Modules the pages import on first use; importing them before serving keeps that cost (and the
#: import lock the worker thread may hold meanwhile) out of the first requests.
PRELOADED = (
    "plotly.io",
    "marginbook.importers.registry",
    "marginbook.margin.risk",
    "marginbook.margin.venues",
    "marginbook.reports.exports",
    "marginbook.tax.standing",
    "marginbook.app.tax_year",
)


def preload(app: FastAPI) -> None:
    """Do the one-time work of the first requests before serving: compile every template, build
    the OpenAPI schema, import the modules pages load lazily."""
    import importlib

    from marginbook.web.deps import TEMPLATE_DIR

    for template in sorted(TEMPLATE_DIR.glob("*.html")):
        app.state.templates.env.get_template(template.name)
    app.openapi()
    for name in PRELOADED:  # every one is installed with marginbook: a failure here is a bug
        importlib.import_module(name)
    dashboard: Dashboard = app.state.dashboard
    warm_prices = getattr(dashboard.prices, "warm", None)
    with contextlib.suppress(MarginbookError, OSError):
        if warm_prices is not None:
            warm_prices()  # the market's price files, read on first use
        from marginbook.app import charts

        # The price bars, their indicators and plotly's first figure.
        charts.candlestick(dashboard.candles(180), {}, element_id="preload", title="")


def app_factory() -> Any:
    """``uvicorn --factory marginbook.web.main:app_factory``: the app with default settings."""
    return create_app(WebSettings())
