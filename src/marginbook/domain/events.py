"""The ledger's events: one immutable record per thing that happened to a trader's money.

The kinds and their fields are those of the ledger CSV (``docs/ledger-csv.md``). Every
importer, the margin simulator and the CSV reader produce :class:`LedgerEvent` values; the
ledger stores them; the tax engine and the portfolio fold over them in ``(timestamp, seq)``
order, where ``seq`` is the order of import (ties keep file row order).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import NewType

from marginbook.domain.numbers import ZERO, plain

Wallet = NewType("Wallet", str)
Asset = NewType("Asset", str)
EventId = NewType("EventId", str)


class EventKind(StrEnum):
    """The closed set of event kinds (the ``type`` column of the ledger CSV)."""

    BUY = "buy"
    SELL = "sell"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRANSFER = "transfer"
    INCOME = "income"
    SPEND = "spend"
    GIFT = "gift"
    DONATION = "donation"
    FEE = "fee"
    BORROW = "borrow"
    REPAY = "repay"
    INTEREST = "interest"
    LIQUIDATION = "liquidation"
    REALIZED_PNL = "realized_pnl"
    FUNDING = "funding"


#: Kinds that exchange ``amount`` of ``asset`` against ``counter_amount`` of ``counter_asset``.
TRADE_KINDS = frozenset({EventKind.BUY, EventKind.SELL, EventKind.LIQUIDATION})

#: Kinds whose ``amount`` carries the direction of the money (negative = paid or lost).
AMOUNT_MAY_BE_NEGATIVE = frozenset({EventKind.REALIZED_PNL, EventKind.FUNDING})


class EventFieldError(ValueError):
    """A field of an event is invalid; ``field`` names it so readers can point at a column."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an event came from, so a figure on a form can be traced to its source.

    Attributes:
        source: a file path, ``api:<exchange>``, or ``sim:<run id>``.
        row: the 1-based row in the file (header = row 1), when from a file.
        ref: the source's own id (an exchange trade id, a simulation step), when there is one.
    """

    source: str
    row: int | None = None
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class LotPick:
    """Specific identification: dispose of ``quantity`` units acquired by event ``acquisition_id``."""

    acquisition_id: str
    quantity: Decimal

    def __post_init__(self) -> None:
        if not self.acquisition_id:
            raise EventFieldError("lots", "an acquisition id is empty")
        if self.quantity <= 0:
            raise EventFieldError("lots", f"quantity must be positive, got {plain(self.quantity)}")


def _utc(value: datetime, field_name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise EventFieldError(field_name, "a time needs a zone (write Z or +00:00)")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One event of the ledger.

    Attributes:
        id: unique id; importers default it to :func:`default_event_id`.
        timestamp: when it happened, timezone-aware, normalised to UTC.
        kind: what happened (:class:`EventKind`).
        wallet: the account or wallet it happened in.
        asset: the asset received, given, borrowed, paid ...
        amount: quantity of ``asset``, before any fee; positive except for
            ``realized_pnl`` and ``funding`` (negative = paid or lost).
        counter_asset: for trades, what was paid (buy) or received (sell, liquidation).
        counter_amount: quantity of ``counter_asset``.
        fee_asset: asset of a fee charged with the event (a separate debit of the wallet).
        fee_amount: quantity of the fee.
        usd_value: fair market value in USD of ``amount`` at ``timestamp``, when known.
        to_wallet: the receiving wallet of a ``transfer``.
        cost_basis_usd: for a ``deposit`` of coins bought outside the ledger, their basis.
        acquired_at: and their acquisition time.
        lots: specific identification of the acquisitions a disposal uses.
        position: groups the events of one margin position.
        opened_at: for ``realized_pnl``, when the position was opened.
        note: free text.
        origin: where the event came from.
    """

    id: str
    timestamp: datetime
    kind: EventKind
    wallet: str
    asset: str
    amount: Decimal
    counter_asset: str | None = None
    counter_amount: Decimal | None = None
    fee_asset: str | None = None
    fee_amount: Decimal | None = None
    usd_value: Decimal | None = None
    to_wallet: str | None = None
    cost_basis_usd: Decimal | None = None
    acquired_at: datetime | None = None
    lots: tuple[LotPick, ...] = ()
    position: str | None = None
    opened_at: datetime | None = None
    note: str | None = None
    origin: Origin = field(default=Origin(source=""), compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not self.id:
            raise EventFieldError("id", "must not be empty")
        set_(self, "timestamp", _utc(self.timestamp, "timestamp"))
        if not isinstance(self.kind, EventKind):
            try:
                set_(self, "kind", EventKind(self.kind))
            except ValueError:
                raise EventFieldError("type", f"unknown type {self.kind!r}") from None
        kind = self.kind
        if not self.wallet:
            raise EventFieldError("wallet", "is required")
        if not self.asset:
            raise EventFieldError("asset", "is required")
        if kind not in AMOUNT_MAY_BE_NEGATIVE and self.amount <= 0:
            raise EventFieldError("amount", f"must be positive for {kind}, got {plain(self.amount)}")
        if kind in TRADE_KINDS and (self.counter_asset is None or self.counter_amount is None):
            missing = "counter_asset" if self.counter_asset is None else "counter_amount"
            raise EventFieldError(missing, f"is required for {kind}")
        if (self.counter_asset is None) != (self.counter_amount is None):
            missing = "counter_asset" if self.counter_asset is None else "counter_amount"
            raise EventFieldError(missing, "counter_asset and counter_amount go together")
        if self.counter_amount is not None and self.counter_amount < 0:
            raise EventFieldError("counter_amount", "must not be negative")
        if (self.fee_asset is None) != (self.fee_amount is None):
            missing = "fee_asset" if self.fee_asset is None else "fee_amount"
            raise EventFieldError(missing, "fee_asset and fee_amount go together")
        if self.fee_amount is not None and self.fee_amount < 0:
            raise EventFieldError("fee_amount", "must not be negative")
        if self.usd_value is not None and self.usd_value < 0:
            raise EventFieldError("usd_value", "must not be negative")
        if kind is EventKind.TRANSFER:
            if not self.to_wallet:
                raise EventFieldError("to_wallet", "is required for a transfer")
            if self.to_wallet == self.wallet:
                raise EventFieldError("to_wallet", "a transfer must go to another wallet")
        elif self.to_wallet:
            raise EventFieldError("to_wallet", f"only a transfer has a to_wallet, not a {kind}")
        if self.cost_basis_usd is not None and self.cost_basis_usd < 0:
            raise EventFieldError("cost_basis_usd", "must not be negative")
        if self.acquired_at is not None:
            set_(self, "acquired_at", _utc(self.acquired_at, "acquired_at"))
        if self.opened_at is not None:
            set_(self, "opened_at", _utc(self.opened_at, "opened_at"))
        if not isinstance(self.lots, tuple):
            set_(self, "lots", tuple(self.lots))

    def fingerprint(self) -> str:
        """A canonical text of every field but ``id`` and ``origin``.

        Two events with the same fingerprint say the same thing; the ledger uses it to tell a
        harmless re-import from a conflicting one.
        """
        return "\x1f".join(field_texts(self))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    return str(value)


def field_texts(event: LedgerEvent) -> list[str]:
    """Every field but ``id`` and ``origin`` as canonical text, in the ledger CSV's column order.

    The one place that says how a field is written: the fingerprint joins these, and the
    ledger CSV writer puts the id in front of them, so the two can never drift apart.
    """
    return [
        format_timestamp(event.timestamp),
        event.kind.value,
        event.wallet,
        event.asset,
        plain(event.amount),
        _text(event.counter_asset),
        _text(event.counter_amount),
        _text(event.fee_asset),
        _text(event.fee_amount),
        _text(event.usd_value),
        _text(event.to_wallet),
        _text(event.cost_basis_usd),
        _text(event.acquired_at),
        ";".join(f"{p.acquisition_id}:{plain(p.quantity)}" for p in event.lots),
        _text(event.position),
        _text(event.opened_at),
        _text(event.note),
    ]


def format_timestamp(value: datetime) -> str:
    """Write a time as ISO-8601 UTC with ``Z``, to the microsecond only when it has one."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def default_event_id(fingerprint: str, occurrence: int) -> str:
    """The stable id of a row that gives none: a hash of its content and its occurrence count.

    ``occurrence`` counts identical rows before this one in the same file (0 for the first),
    so two identical partial fills stay two events, and importing the file again adds nothing.
    """
    digest = hashlib.sha256(f"{fingerprint}\x1e{occurrence}".encode()).hexdigest()
    return f"h{digest[:31]}"


def is_zero(value: Decimal | None) -> bool:
    """True when ``value`` is absent or zero."""
    return value is None or value == ZERO
