"""The dashboard's settings: one validated object built from flags, environment and defaults."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

#: Uploads larger than this are refused with 413 before they are read (10 MiB).
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: How long a request waits for a figure being computed before it answers "computing" (seconds):
#: short enough that every answer stays within the 300 ms latency target.
DEFAULT_ANSWER_WITHIN = 0.1


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class WebSettings:
    """How the dashboard runs.

    Attributes:
        host: the address the server binds to; loopback by default.
        port: the TCP port.
        db_url: the ledger database URL (``None``: the default SQLite file).
        token_hash: SHA-256 hex of the access token; required when ``host`` is not loopback.
        max_upload_bytes: the largest accepted upload.
        price_file: an OHLCV CSV (``timestamp,open,high,low,close[,volume]``) for the candlestick
            charts; ``None`` uses the bundled data when there is some.
        backtest_dir: a folder of stored backtest results (JSON documents of ``marginbook
            backtest --format json``); ``None`` means none are shown.
        export_dir: a folder of tax exports (PDF, TXF, CSV ...) offered for download.
        tax_profile: the tax profile TOML used by the Taxes page (``None``: the defaults).
        answer_within: seconds a request may wait for a figure being computed in the
            background (the holdings fold, a tax engine run, an export) before it answers
            "computing": a page with what is known and a status it polls, the API ``202``
            with ``Retry-After``.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    db_url: str | None = None
    token_hash: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    price_file: Path | None = None
    backtest_dir: Path | None = None
    export_dir: Path | None = None
    tax_profile: Path | None = None
    answer_within: float = DEFAULT_ANSWER_WITHIN

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535, got {self.port}")
        if self.max_upload_bytes <= 0:
            raise ValueError("max_upload_bytes must be positive")
        if not 0 <= self.answer_within <= 600:
            raise ValueError("answer_within must be between 0 and 600 seconds")
        if self.token_hash is not None and len(self.token_hash) != 64:
            raise ValueError("token_hash must be a SHA-256 hex digest (64 characters)")

    @property
    def requires_token(self) -> bool:
        """Bound to a non-loopback address, or given a token: every request must carry it."""
        return self.token_hash is not None or not is_loopback(self.host)
