"""Fair market value in USD: the close of the bar that contains the moment asked about.

The rule (``docs/prices.md``): for ``usd_price(asset, at)``, take every price series of
``asset`` quoted in USD or in a USD stablecoin, finest bar first (hourly before daily), user
files before downloaded ones before the bundled data, and answer the **close of the first bar
whose interval [open, open + bar) contains ``at``**. A stablecoin quote (USDT, USDC …) stands in
for USD, which the docs state. ``USD`` is 1; USD stablecoins are 1 unless a price file of their
own says otherwise. Nothing covering ``at`` is a :class:`MissingPriceError` naming asset and time;
never a zero, never the nearest bar outside the interval.

Series are found by file name (``ASSET-QUOTE_BAR.csv``: ``BTC-USDT_1h.csv``) and loaded on first
use, then answered by bisection, so a tax run asking thousands of times reads each file once.
"""

from __future__ import annotations

import bisect
import csv
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.prices import MissingPriceError

ONE = Decimal(1)

#: USD stablecoins valued at 1 USD unless a price file of their own is present.
USD_STABLECOINS = frozenset({"USDT", "USDC", "DAI", "PYUSD", "TUSD", "BUSD", "USDP", "GUSD", "FDUSD", "USDS"})
#: Quotes accepted as USD: USD itself, and the stablecoins as a stated proxy.
USD_QUOTES = frozenset({"USD"}) | USD_STABLECOINS

_FILE_NAME = re.compile(
    r"^(?P<base>[A-Za-z0-9]+)-(?P<quote>[A-Za-z0-9]+)_(?P<bar>\d+[smhdw])(?:[._-].*)?\.csv$"
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
REQUIRED_COLUMNS = ("timestamp", "close")

#: Priority of a series' origin: lower is asked first.
USER, DOWNLOADED, BUNDLED = 0, 1, 2


def bar_seconds(label: str) -> int:
    """Seconds in a bar label such as ``1h``, ``15m``, ``1d``.

    Raises:
        ValueError: for a label that is not a count and a unit (s, m, h, d, w).
    """
    match = re.fullmatch(r"(\d+)([smhdw])", label.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"not a bar length: {label!r} (expected e.g. 1h, 1d)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _epoch(value: str) -> int:
    text = value.strip()
    if text.isdigit():
        number = int(text)
        return number // 1000 if number > 10**11 else number  # epoch milliseconds or seconds
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@dataclass(slots=True)
class PriceSeries:
    """One file of bars of ``base`` quoted in ``quote``, loaded on first use.

    Attributes:
        path: the CSV (``timestamp,open,high,low,close[,volume]``; timestamp = bar open, UTC).
        base: the priced asset.
        quote: the currency of the prices.
        bar: the bar length in seconds.
        origin: :data:`USER`, :data:`DOWNLOADED` or :data:`BUNDLED`.
    """

    path: Path
    base: str
    quote: str
    bar: int
    origin: int = BUNDLED
    _opens: list[int] = field(default_factory=list, repr=False)
    _closes: list[str] = field(default_factory=list, repr=False)
    _loaded: bool = field(default=False, repr=False)

    @classmethod
    def from_file_name(cls, path: Path, origin: int = USER) -> PriceSeries | None:
        """The series a file's name describes (``BTC-USDT_1h.csv``), or ``None`` for another name."""
        match = _FILE_NAME.match(path.name)
        if match is None:
            return None
        return cls(path, match["base"].upper(), match["quote"].upper(), bar_seconds(match["bar"]), origin)

    def _load(self) -> None:
        """Read the file once; every bad row is reported with file, row and field."""
        problems: list[InputProblem] = []
        opens: list[int] = []
        closes: list[str] = []
        source = str(self.path)
        try:
            with self.path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle)
                header = [cell.strip().lower() for cell in next(reader, [])]
                missing = [column for column in REQUIRED_COLUMNS if column not in header]
                if missing:
                    raise InputError(InputProblem(source, 1, "", f"missing column(s) {', '.join(missing)}; "
                                                  "expected timestamp,open,high,low,close[,volume]"))
                at, close_at = header.index("timestamp"), header.index("close")
                for number, row in enumerate(reader, start=2):
                    if not any(cell.strip() for cell in row):
                        continue
                    try:
                        opened = _epoch(row[at])
                    except (ValueError, IndexError, OverflowError):
                        problems.append(InputProblem(source, number, "timestamp", "not a time"))
                        continue
                    close = row[close_at].strip() if close_at < len(row) else ""
                    if not _is_positive_decimal(close):
                        problem = f"not a positive price: {close[:30]!r}"
                        problems.append(InputProblem(source, number, "close", problem))
                        continue
                    if opens and opened <= opens[-1]:
                        problems.append(InputProblem(source, number, "timestamp",
                                                     "bars must be in strictly increasing time order"))
                        continue
                    opens.append(opened)
                    closes.append(close)
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise InputError(InputProblem(source, None, "", f"cannot read price file: {error}")) from None
        if problems:
            raise InputError(problems)
        self._opens, self._closes, self._loaded = opens, closes, True

    def close_at(self, moment: datetime) -> Decimal | None:
        """The close of the bar containing ``moment``, or ``None`` when no bar contains it."""
        if not self._loaded:
            self._load()
        second = int(moment.timestamp())
        index = bisect.bisect_right(self._opens, second) - 1
        if index < 0 or second >= self._opens[index] + self.bar:
            return None
        return Decimal(self._closes[index])

    def coverage(self) -> str:
        """``first … last`` bar open, for messages."""
        if not self._loaded:
            self._load()
        if not self._opens:
            return "no bars"
        first, last = (datetime.fromtimestamp(t, UTC).isoformat() for t in (self._opens[0], self._opens[-1]))
        return f"{first} … {last}"

    def bar_open(self, moment: datetime) -> datetime:
        """The open time of the bar containing ``moment`` (call after :meth:`close_at` found one)."""
        second = int(moment.timestamp())
        index = bisect.bisect_right(self._opens, second) - 1
        return datetime.fromtimestamp(self._opens[index], UTC)


def _is_positive_decimal(text: str) -> bool:
    if not re.fullmatch(r"\d+(\.\d+)?([eE][-+]?\d+)?", text):
        return False
    return Decimal(text) > 0


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """A price with where it came from, for ``marginbook prices show`` and audit trails.

    Attributes:
        asset: the priced asset.
        at: the moment asked about (UTC).
        usd: the USD price of one unit.
        rule: how it was found (``close of the 1h bar opened 2024-03-02T14:00:00+00:00``).
        source: the file, or ``""`` for a fixed value (USD, stablecoins).
        quote: the quote currency of the data (``USDT`` when a stablecoin stood in for USD).
    """

    asset: str
    at: datetime
    usd: Decimal
    rule: str
    source: str
    quote: str


class SeriesPriceSource:
    """A :class:`~marginbook.domain.prices.PriceSource` over price series (see the module rule)."""

    def __init__(self, series: Iterable[PriceSeries]) -> None:
        by_asset: dict[str, list[PriceSeries]] = {}
        for item in series:
            if item.quote in USD_QUOTES and item.base != item.quote:
                by_asset.setdefault(item.base, []).append(item)
        for items in by_asset.values():
            items.sort(key=lambda s: (s.origin, s.bar, s.quote != "USD", str(s.path)))
        self._by_asset = by_asset

    def assets(self) -> list[str]:
        """The assets with at least one price series."""
        return sorted(self._by_asset)

    def quote(self, asset: str, at: datetime) -> PriceQuote:
        """The USD price of ``asset`` at ``at`` with its provenance.

        Raises:
            ValueError: when ``at`` has no time zone.
            MissingPriceError: when no series has a bar containing ``at``.
            InputError: when a price file needed for the answer is malformed.
        """
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("a price look-up needs a timezone-aware time")
        moment = at.astimezone(UTC)
        code = asset.strip().upper()
        series = self._by_asset.get(code, [])
        if code == "USD":
            return PriceQuote(code, moment, ONE, "USD is the unit", "", "USD")
        for item in series:
            close = item.close_at(moment)
            if close is not None:
                label = _bar_label(item.bar)
                rule = f"close of the {label} bar opened {item.bar_open(moment).isoformat()}"
                if item.quote != "USD":
                    rule += f" ({item.quote} taken as USD)"
                return PriceQuote(code, moment, close, rule, str(item.path), item.quote)
        if code in USD_STABLECOINS:
            return PriceQuote(code, moment, ONE, f"{code} is a USD stablecoin, valued at 1 USD", "", "USD")
        if not series:
            raise MissingPriceError(code, moment, "no price data for this asset; add a price file or run "
                                    "'marginbook prices fetch'")
        covered = "; ".join(f"{item.path.name}: {item.coverage()}" for item in series)
        raise MissingPriceError(code, moment, f"no bar contains this time (data: {covered})")

    def usd_price(self, asset: str, at: datetime) -> Decimal:
        """The USD price of one unit of ``asset`` at ``at`` (the module's rule).

        Raises:
            MissingPriceError: naming asset and time, when nothing covers them.
        """
        return self.quote(asset, at).usd


def _bar_label(seconds: int) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def bundled_series() -> list[PriceSeries]:
    """The price files shipped with marginbook (``marginbook/data/prices``)."""
    folder = resources.files("marginbook") / "data" / "prices"
    found = []
    for entry in folder.iterdir():
        series = PriceSeries.from_file_name(Path(str(entry)), BUNDLED)
        if series is not None:
            found.append(series)
    return found


def folder_series(folder: Path, origin: int) -> list[PriceSeries]:
    """Every ``ASSET-QUOTE_BAR.csv`` file in ``folder`` (none when it does not exist)."""
    if not folder.is_dir():
        return []
    return [s for p in sorted(folder.glob("*.csv")) if (s := PriceSeries.from_file_name(p, origin))]


def user_prices_dir() -> Path:
    """Where users put price files: ``$MARGINBOOK_PRICES_DIR``, else ``<user data dir>/prices``."""
    configured = os.environ.get("MARGINBOOK_PRICES_DIR")
    if configured:
        return Path(configured)
    from platformdirs import user_data_dir

    return Path(user_data_dir("marginbook")) / "prices"


def price_cache_dir() -> Path:
    """Where ``marginbook prices fetch`` keeps bars: ``$MARGINBOOK_PRICE_CACHE``, else the user cache."""
    configured = os.environ.get("MARGINBOOK_PRICE_CACHE")
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("marginbook")) / "prices"


def default_price_source(extra_files: Sequence[PriceSeries] = ()) -> SeriesPriceSource:
    """User files, then downloaded bars, then the bundled data (see the module rule).

    Args:
        extra_files: series named explicitly (e.g. a ``--prices`` option), asked first of all.
    """
    return SeriesPriceSource([
        *extra_files,
        *folder_series(user_prices_dir(), USER),
        *folder_series(price_cache_dir(), DOWNLOADED),
        *bundled_series(),
    ])

