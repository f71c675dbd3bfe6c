"""A ledger read as columns → the fast fold's program, the common rows without a Python event each.

Reading a million-row ledger as one ``StoredEvent`` (with ``Decimal`` fields) per row and
encoding each in a Python loop cost most of a large tax run. A reader that can give the
ledger as columns (:class:`EventColumns`, the SQLite ledger's: see
:mod:`marginbook.app.stored_events`) lets :func:`encode_columns` write the operations of the
common rows vectorised: a buy or sale against USD with no fee or a USD fee, without
``usd_value`` or lots, and a transfer without fee (the rows :func:`.encode.encode` encodes
inline). Quantities become scaled integers straight from their decimal text; ``Decimal`` is
built only for what a record or the basis pass needs (an acquisition's basis, a sale's
quantity and proceeds). Every other row is read back as an event and encoded by
:meth:`.encode.Encoder.event` as before, and the operations of both are put back in ledger
order. The program is the one :func:`.encode.encode` writes for the same events (the same
operations in the same order, the same scales); the differential tests check it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import repeat
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast

import numpy as np

from marginbook.domain.numbers import ZERO
from marginbook.tax.book import WALLET_RULES_START, Scope, time_key
from marginbook.tax.engine import Fold
from marginbook.tax.events import TaxEvent
from marginbook.tax.fast.encode import (
    ACQUIRE,
    HOLD,
    MOVE,
    TAKE,
    Encoder,
    Program,
    Unsupported,
    _places,
    check_asset_totals,
    check_scales,
    names_by_id,
    scaled_array,
)
from marginbook.tax.methods import Method
from marginbook.tax.progress import report

if TYPE_CHECKING:
    import polars as pl

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_START_US = time_key(WALLET_RULES_START)
_POW10 = np.array([10**k for k in range(19)], dtype=np.int64)

#: Above this share of rows that need the event encoder, the columns are not used.
MAX_OTHER_SHARE = 0.5
#: Bits of the ``flags`` column (see :class:`EventColumns`).
#: The kind (``flags & KIND``): a buy, a sale, a transfer, or any other kind (0).
KIND, BUY, SELL, TRANSFER = 3, 1, 2, 3
FEE_ASSET_NULL, FEE_AMOUNT_NULL, COUNTER_AMOUNT_NULL, USD_VALUE_SET, LOTS_SET = 4, 8, 16, 32, 64
FEE_IN_USD, COUNTER_IN_USD, TO_WALLET_NULL = 128, 256, 512
#: The frame's columns: text columns never null (``''`` for null, the flags say which).
#: ``fee`` is the fee amount when there is a fee asset, else ``''``.
FRAME_COLUMNS = (
    "seq", "ts_us", "id", "wallet", "asset", "amount", "counter_amount", "fee", "to_wallet", "flags",
)


class EventColumns(Protocol):
    """A ledger's rows as columns, with the full events of any rows on demand.

    ``frame`` holds :data:`FRAME_COLUMNS` in ledger order (``ts_us``, then ``seq``), the
    text columns with ``''`` for null and ``flags`` the bits above.
    """

    @property
    def frame(self) -> pl.DataFrame:
        """The rows as columns."""
        ...

    def events(self, seqs: Sequence[int]) -> list[TaxEvent]:
        """The full events of the rows ``seqs``, in that order."""
        ...


def _one_method(fold: Fold, first_us: int, last_us: int) -> Method | None:
    """The lot method of every year the rows span (any year of the zone around them), or
    ``None`` when they differ (the event encoder refuses that run where a disposal meets it)."""
    if fold.options.method is not None:
        return fold.options.method
    first = (_EPOCH + timedelta(microseconds=first_us)).year
    last = (_EPOCH + timedelta(microseconds=last_us)).year
    methods = {fold.profile.year(year).method or Method.FIFO for year in range(first - 1, last + 2)}
    return methods.pop() if len(methods) == 1 else None


class _Sale(NamedTuple):
    """What ``Fold._identification_warning`` reads of a sale."""

    id: str
    timestamp: datetime


def _ids(names: Any, table: dict[str, int], assign: Any) -> np.ndarray:
    """Each name's id (``assign`` gives new names theirs, in order of first use)."""
    import polars as pl

    for name in names.unique(maintain_order=True).to_list():
        if name not in table:
            assign(name)
    if names.len() == 0:
        return np.zeros(0, dtype=np.int64)
    found: np.ndarray = names.replace_strict(table, return_dtype=pl.Int64).to_numpy().astype(np.int64)
    return found


def encode_columns(columns: EventColumns, fold: Fold) -> tuple[Program, Encoder] | None:
    """The program of a run from a columnar ledger, or ``None`` to encode the events instead.

    ``None`` when the columns do not help: different lot methods in the years of the ledger,
    or HIFO/LOFO across the 2025 allocation (the event encoder then finds what it can run).

    Raises:
        Unsupported: as :func:`.encode.encode` (the run needs the ``Decimal`` fold).
    """
    end = fold.options.end
    if (
        fold.options.method in (Method.HIFO, Method.LOFO)
        and fold.options.scope is Scope.TRANSITION
        and end is not None
        and end > WALLET_RULES_START
    ):
        return None  # unsupported as soon as a lot is taken: not worth reading the columns
    import polars as pl

    report("reading the ledger")
    try:
        frame = columns.frame
    except Exception as error:  # a database the driver cannot read: the events are read instead
        log.debug("columnar reader not used (%s: %s)", type(error).__name__, error)
        return None
    schema = frame.schema
    integers = ("seq", "ts_us", "flags")
    if any(
        schema.get(name) != (pl.Int64 if name in integers else pl.String) for name in FRAME_COLUMNS
    ):
        return None  # a column the driver typed otherwise: read the events
    if end is not None:
        frame = frame.filter(pl.col("ts_us") < time_key(end))
    n = frame.height
    if n == 0:
        return None
    report(f"encoding {n:,} rows")
    ts = frame["ts_us"].to_numpy()
    method = _one_method(fold, int(ts[0]), int(ts[-1]))
    if method is None:
        return None
    scope = fold.options.scope

    # Which rows are common (the conditions of ``encode``'s inline paths).
    flags = pl.col("flags")
    kind = flags & KIND

    def unset(bit: int) -> pl.Expr:
        return (flags & bit) == 0

    plain_positive = pl.col("amount").str.contains(r"^[0-9]+(\.[0-9]+)?$") & pl.col("amount").str.contains(
        "[1-9]"
    )
    trade = (
        kind.is_in([BUY, SELL])
        & ~unset(COUNTER_IN_USD)
        & unset(COUNTER_AMOUNT_NULL)
        & unset(USD_VALUE_SET)
        & (~unset(FEE_ASSET_NULL) | ~unset(FEE_IN_USD))
        & plain_positive
    )
    transfer = (
        (kind == TRANSFER)
        & ~unset(FEE_ASSET_NULL)
        & ~unset(FEE_AMOUNT_NULL)
        & unset(TO_WALLET_NULL)
        & pl.col("amount").str.contains(r"^[0-9]+(\.[0-9]+)?$")
    )
    common_expr = (trade | transfer) & unset(LOTS_SET) & (pl.col("asset") != "USD")
    marks = frame.select(common=common_expr, transfer=transfer).to_numpy()
    common = marks[:, 0].astype(bool)
    is_transfer = marks[:, 1].astype(bool)

    encoder = Encoder(fold)
    program = encoder.program
    program.method = fold.options.method  # as ``encode``: a fixed method is the run's from the start
    first_2025 = int(np.searchsorted(ts, _START_US))

    # The other rows, through the encoder, in ledger order; each op keyed by its row.
    other = np.nonzero(~common)[0]
    if len(other) > MAX_OTHER_SHARE * n:
        # Mostly rows the columns don't encode: they would all be held as events at once,
        # where the event encoder streams them (memory), and read twice (time).
        return None
    keys: list[int] = []
    where: dict[str, int] = {}  # the other rows' positions by id
    if len(other):
        events = columns.events(frame["seq"].to_numpy()[other].tolist())
        ops = program.ops
        where.update((event.id, position) for position, event in zip(other.tolist(), events, strict=True))
        for position, event in zip(other.tolist(), events, strict=True):
            if not encoder.switched and position >= first_2025:
                encoder.switch()
                keys.append(2 * first_2025)
            before = len(ops)
            encoder.event(event)
            keys.extend([2 * position + 1] * (len(ops) - before))
    if not encoder.switched:
        if first_2025 < n:
            encoder.switch()
            keys.append(2 * first_2025)
        elif end is not None and end > WALLET_RULES_START:
            encoder.switch()
            keys.append(2 * n)

    # The common rows' columns.
    rows = np.nonzero(common)[0]
    part = frame if len(rows) == n else frame.filter(pl.Series(common))  # (a copy of every column)
    w_common = _ids(part["wallet"], program.wallets, program.wallet_id)
    a_common = _ids(part["asset"], program.assets, program.asset_id)
    kinds = part["flags"].to_numpy() & KIND
    c_ts = ts[rows]
    c_transfer = is_transfer[rows]
    buy = kinds == BUY
    sell = kinds == SELL
    per_wallet = (
        np.ones(len(rows), dtype=bool) if scope is Scope.WALLET
        else np.zeros(len(rows), dtype=bool) if scope is Scope.UNIVERSAL
        else c_ts >= _START_US
    )
    move = c_transfer & per_wallet
    hold = c_transfer & ~per_wallet
    code = np.full(len(rows), TAKE, dtype=np.int64)
    code[buy] = ACQUIRE
    code[move] = MOVE
    code[hold] = HOLD
    wallet2 = np.full(len(rows), -1, dtype=np.int64)
    if c_transfer.any():
        targets = _ids(part["to_wallet"].filter(pl.Series(c_transfer)), program.wallets, program.wallet_id)
        wallet2[c_transfer] = targets
    acquires = buy | move
    key = np.where(acquires, c_ts, 0)
    acquisition = np.full(len(rows), -1, dtype=np.int64)
    n_facts = len(program.facts)
    acquisition[acquires] = n_facts + np.arange(int(acquires.sum()), dtype=np.int64)

    # Quantities: places and digits from the text, scaled once every asset's scale is known.
    split = part["amount"].str.split_exact(".", 1).struct.unnest()
    whole, fraction = split.columns[0], split.columns[1]
    numbers = split.select(
        places=pl.col(fraction).str.len_chars().fill_null(0),
        digits=pl.col(whole).str.strip_chars_start("0").str.len_chars(),
    )
    places = numbers["places"].to_numpy().astype(np.int64)
    digits = numbers["digits"].to_numpy().astype(np.int64)
    n_assets = len(program.assets)
    scales_array = np.zeros(n_assets, dtype=np.int64)
    np.maximum.at(scales_array, a_common, places)
    f_kind, f_wallet, f_wallet2, f_asset, f_quantity, f_key, f_acq, f_flag = (
        list(column) for column in (zip(*program.ops, strict=True) if program.ops else [()] * 8)
    )
    for asset, quantity in zip(f_asset, f_quantity, strict=True):
        if asset >= 0:
            found = _places(quantity)
            if found > scales_array[asset]:
                scales_array[asset] = found
    scales = scales_array.tolist()
    check_scales(scales)
    scale_of_row = scales_array[a_common]
    short = digits <= 18 - scale_of_row
    whole_value = np.zeros(len(rows), dtype=np.int64)
    fraction_value = np.zeros(len(rows), dtype=np.int64)
    if len(rows):
        whole_value[short] = split[whole].filter(pl.Series(short)).cast(pl.Int64).to_numpy()
        kept = pl.Series(short)
        fraction_value[short] = split[fraction].filter(kept).fill_null("0").cast(pl.Int64).to_numpy()
    scaled = whole_value * _POW10[np.where(short, scale_of_row, 0)] + fraction_value * _POW10[
        np.where(short, scale_of_row - places, 0)
    ]
    if not short.all():
        texts = part["amount"].filter(pl.Series(~short)).to_list()
        for index, text, scale in zip(np.nonzero(~short)[0].tolist(), texts, scale_of_row[~short].tolist(),
                                      strict=True):
            scaled[index] = scaled_array([int(Decimal(text).scaleb(scale))])[0]
    f_scaled = scaled_array(
        [int(q.scaleb(scales[a] if a >= 0 else 0)) for q, a in zip(f_quantity, f_asset, strict=True)]
    )

    if sell.any() or move.any():
        program.method = program.method or method
    if program.switched and program.method in (Method.HIFO, Method.LOFO):
        raise Unsupported("HIFO/LOFO across the 2025 allocation (unit costs of split lots)")

    # Both in ledger order: the other rows' ops first in each key (stable), keys unique per row.
    order = np.argsort(np.concatenate([np.array(keys, dtype=np.int64), 2 * rows + 1]), kind="stable")

    def column(fallback: list[Any] | np.ndarray, mine: np.ndarray) -> np.ndarray:
        return np.concatenate([np.array(fallback, dtype=np.int64), mine.astype(np.int64)])[order]

    asset_array = column(f_asset, a_common)
    # Each part's quantities are in range (``scaled_array``; a common row's short text is
    # below 10**18): what is left to check is each asset's total.
    quantity_array = column(f_scaled, scaled)
    check_asset_totals(asset_array, quantity_array)
    program.ops = []
    program.scales = scales
    program.asset_of_op = asset_array.tolist()
    program.arrays = {
        "kind": column(f_kind, code),
        "wallet": column(f_wallet, w_common),
        "wallet2": column(f_wallet2, wallet2),
        "asset": asset_array,
        "quantity": quantity_array,
        "key": column(f_key, key),
        "acquisition": column(f_acq, acquisition),
        "flag": column(f_flag, np.zeros(len(rows), dtype=np.int64)),
    }
    if program.method not in (Method.HIFO, Method.LOFO):
        # The lots are matched (without the interpreter lock) while the records are built.
        from marginbook.tax.fast.replay import start_kernel

        start_kernel(program, fold, n_facts + int(acquires.sum()))

    # The records' exact values, only where one is needed.
    text = part.select("id", "amount", "counter_amount", "fee")
    ranked = method in (Method.HIFO, Method.LOFO)
    new_facts = _facts(text.filter(pl.Series(acquires)), c_ts[acquires], buy[acquires], quantities=ranked)
    program.facts.extend(new_facts)
    sells = text.filter(pl.Series(sell))
    # Each sale's wallet and asset as the one string of each name (not a new one per row).
    wallet_names = names_by_id(program.wallets)
    asset_names = names_by_id(program.assets)
    sell_metas = _sale_metas(
        sells, c_ts[sell], [wallet_names[w] for w in w_common[sell].tolist()],
        [asset_names[a] for a in a_common[sell].tolist()],
    )
    if method is not Method.FIFO:
        _identification(fold, method, sell_metas, rows[sell], where)
    if scope is Scope.UNIVERSAL:
        encoder.universal_2025 += int((c_ts[sell] >= _START_US).sum())
    c_meta: list[tuple[object, ...] | None] = [None] * len(rows)
    for index, meta in zip(np.nonzero(sell)[0].tolist(), sell_metas, strict=True):
        c_meta[index] = meta
    if keys:
        metas = program.meta + c_meta
        program.meta = [metas[i] for i in order.tolist()]
    else:
        program.meta = c_meta  # only common rows: already in ledger order
    return program, encoder


def _identification(
    fold: Fold, method: Method, metas: list[tuple[object, ...]], positions: Any, where: dict[str, int]
) -> None:
    """The sales' identification notes (``Encoder.dispose``'s for a method other than FIFO),
    and the fold's lists of such sales put back in ledger order (the other rows, encoded
    first, added theirs; ``where``: their positions)."""
    for index, (meta, position) in enumerate(zip(metas, positions.tolist(), strict=True)):
        moment = meta[4]
        assert isinstance(moment, datetime)
        if moment < WALLET_RULES_START:
            continue
        event_id = str(meta[1])
        note = fold._identification_warning(cast(TaxEvent, _Sale(event_id, moment)), method)
        if note:
            metas[index] = (*meta[:9], (note,))
            where[event_id] = position
    for ids in fold._identification.values():
        ids.sort(key=where.__getitem__)


#: Up to here (2100-01-01) a time in microseconds divided by 10**6 as a double is within
#: 0.25 µs of the exact quotient, so ``datetime.fromtimestamp`` (which rounds to the nearest
#: microsecond) gives the exact time; it builds one object where ``epoch + timedelta`` builds
#: three, in half the time over a million rows.
_FLOAT_EXACT_UNTIL_US = 4_102_444_800 * 10**6


def _moments(micros: Any) -> list[datetime]:
    """The UTC times of engine time keys (microseconds since the epoch), exactly."""
    values = micros.tolist()
    if values and min(values) >= 0 and max(values) < _FLOAT_EXACT_UNTIL_US:
        at, utc = datetime.fromtimestamp, UTC
        return [at(m / 1e6, utc) for m in values]
    epoch, delta = _EPOCH, timedelta
    return [epoch + delta(microseconds=m) for m in values]


def _fees(texts: list[str]) -> dict[str, Decimal]:
    """The inline path's fee of each fee text: its amount, or ``ZERO`` for none or a zero amount
    (``''``: no fee asset or no amount)."""
    fees = {"": ZERO}
    for text in set(texts):
        if text:
            fee = Decimal(text)
            fees[text] = fee if fee else ZERO
    return fees


def _facts(
    rows: pl.DataFrame, micros: Any, bought: Any, *, quantities: bool
) -> list[tuple[str, datetime, Decimal, Decimal]]:
    """Each new lot's facts: a buy's basis is its counter amount plus fee, a moved part's zero.

    ``quantities``: with each lot's quantity (HIFO and LOFO rank lots by unit cost); else
    ``ZERO`` in its place, which nothing reads (half a million ``Decimal`` fewer for a million
    events).
    """
    number, zero = Decimal, ZERO
    fee_texts = rows["fee"].to_list()
    fees = _fees(fee_texts)
    values = [
        value if is_buy else ""
        for value, is_buy in zip(rows["counter_amount"].to_list(), bought.tolist(), strict=True)
    ]
    amounts = rows["amount"].to_list() if quantities else repeat("", len(values))
    return [
        (id_, at, number(value) + fees[fee] if value else zero, number(amount) if amount else zero)
        for id_, at, amount, value, fee in zip(
            rows["id"].to_list(), _moments(micros), amounts, values, fee_texts, strict=True
        )
    ]


def _sale_metas(
    rows: pl.DataFrame, micros: Any, wallets: list[str], assets: list[str]
) -> list[tuple[object, ...]]:
    """Each sale's disposal meta (``Encoder.dispose``'s, FIFO: no identification note)."""
    number = Decimal
    fee_texts = rows["fee"].to_list()
    fees = _fees(fee_texts)
    return [
        ("d", id_, id_, "sell", at, wallet, asset, number(amount), number(value) - fees[fee], ())
        for id_, at, amount, value, fee, wallet, asset in zip(
            rows["id"].to_list(), _moments(micros), rows["amount"].to_list(),
            rows["counter_amount"].to_list(), fee_texts, wallets, assets, strict=True,
        )
    ]
