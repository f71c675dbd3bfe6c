"""schemathesis against the OpenAPI schema, in process (ASGI, no network): no request, however
odd, makes the API answer with a server error."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from marginbook.app.dashboard import Dashboard
from marginbook.app.features import risk_figures
from marginbook.web import security
from marginbook.web.main import create_app
from marginbook.web.settings import WebSettings
from tests.web.conftest import fake_risk, fake_tax, make_store, write_backtest, write_price_file

TOKEN = "schemathesis-token-0123456789abcdef0123456789"
_FOLDER = Path(tempfile.mkdtemp(prefix="marginbook-schemathesis-"))
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)


def tax_any_year(store: object, year: int, profile: Path | None) -> dict[str, Any]:
    """Every year has a document (an engine-less year would be the honest 503, not under test here)."""
    return {**fake_tax(store, 2025, profile), "year": year}


def _risk_source() -> Any:
    """The margin engine's calculator when installed (odd inputs must not crash it), else the fake."""
    try:
        import marginbook.margin.risk  # noqa: F401
    except ImportError:
        return fake_risk
    return risk_figures


_DASHBOARD = Dashboard(make_store(), tax_source=tax_any_year, risk_source=_risk_source(),
                       price_file=write_price_file(_FOLDER / "prices.csv"),
                       backtest_dir=write_backtest(_FOLDER / "runs").parent, export_dir=_FOLDER)
# Bound beyond loopback with a token, so that every generated request is authorised by its header
# and exercises the endpoint itself (the token checks have their own tests).
APP = create_app(WebSettings(host="0.0.0.0", token_hash=security.hash_token(TOKEN), max_upload_bytes=64 * 1024),
                 dashboard=_DASHBOARD)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP, headers={"Authorization": f"Bearer {TOKEN}"})


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error])
