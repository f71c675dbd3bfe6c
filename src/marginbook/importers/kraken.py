"""Kraken: the ledgers export (spot, margin, rollover, settlement, staking) and the trades export.

Kraken's *History → Export* offers both. The ledgers export is the complete record: every
balance change, one row each, with ``amount`` before ``fee`` and times in UTC. A spot trade is
two ledger rows sharing a ``refid`` (one debit, one credit); margin positions do not move the
traded assets at all, they settle their profit or loss and fees in ``margin`` and ``rollover``
rows. Row mapping (see ``docs/importers.md``):

- ``trade``, ``spend``/``receive``, ``conversion``, ``settled``: pairs by ``refid`` → one
  ``buy``/``sell`` (a fee on the second leg becomes a separate ``fee`` event);
- ``margin``: non-zero amount → ``realized_pnl`` (with its fee); zero amount and a fee →
  ``interest`` (the opening fee);
- ``rollover``: the fee → ``interest``;
- ``deposit`` / ``withdrawal``; ``staking``, ``reward``, ``dividend``, ``earn`` rewards →
  ``income``; transfers between Kraken's own spot, staking and futures wallets → nothing.

Anything else is reported with its row. Ids are ``kraken:TXID`` for single rows and
``kraken:REFID`` for a trade, which is also the trade id of the trades export, so importing
both exports of the same trades adds each trade once.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from marginbook.domain.events import EventKind, LedgerEvent, Origin
from marginbook.importers._assets import split_symbol, trade_kind_and_sides
from marginbook.importers._csvrows import (
    CellError,
    Draft,
    ProblemLog,
    Row,
    assign_ids,
    decimal_cell,
    decimal_of,
    draft,
    has_columns,
    read_table,
    time_cell,
)

FORMAT_NAME = "kraken"
DESCRIPTION = "Kraken ledgers export (spot, margin, rollover, settlement, staking) or trades export"

LEDGERS = "Kraken ledgers export"
TRADES = "Kraken trades export"
LEDGER_COLUMNS = ("txid", "refid", "time", "type", "subtype", "aclass", "asset", "amount", "fee", "balance")
TRADES_COLUMNS = (
    "txid", "ordertxid", "pair", "time", "type", "ordertype", "price", "cost", "fee", "vol", "margin",
)

#: Kraken's legacy asset codes (X… crypto, Z… fiat) and renamed assets.
_ASSET_CODES = {
    "XXBT": "BTC", "XBT": "BTC", "XETH": "ETH", "ETH2": "ETH", "XXDG": "DOGE", "XDG": "DOGE",
    "XLTC": "LTC", "XXRP": "XRP", "XXLM": "XLM", "XXMR": "XMR", "XZEC": "ZEC", "XETC": "ETC",
    "XREP": "REP", "XMLN": "MLN", "ZUSD": "USD", "ZEUR": "EUR", "ZGBP": "GBP", "ZCAD": "CAD",
    "ZJPY": "JPY", "ZCHF": "CHF", "ZAUD": "AUD",
}

_PAIR_QUOTES = (
    "ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY", "ZCHF", "ZAUD", "XXBT", "XETH", "USDT", "USDC",
    "USD", "EUR", "GBP", "CAD", "JPY", "CHF", "AUD", "XBT", "ETH", "DAI", "DOT",
)

_PAIRED_TYPES = frozenset({"trade", "spend", "receive", "conversion", "settled"})
_INCOME_TYPES = frozenset({"staking", "reward", "dividend", "earn"})
#: Moves between Kraken's own sub-accounts of one user: no change of ownership, no event.
_INTERNAL_SUBTYPES = frozenset({
    "spottostaking", "stakingfromspot", "stakingtospot", "spotfromstaking", "spottofutures",
    "spotfromfutures", "allocation", "deallocation", "migration", "autoallocation",
})


def normalise_asset(code: str) -> str:
    """Kraken's asset code as marginbook names it: ``XXBT`` → ``BTC``, ``ETH2.S`` → ``ETH``.

    The ``.S``/``.M``/``.F``/``.B``/``.P``/``.HOLD`` suffixes mark staked or earning balances of
    the same asset, so they are dropped.
    """
    text = code.strip().upper()
    base = text.split(".", 1)[0]
    return _ASSET_CODES.get(base, base)


def _is_ledger(header: list[str]) -> bool:
    return has_columns(header, LEDGER_COLUMNS)


def _is_trades(header: list[str]) -> bool:
    return has_columns(header, TRADES_COLUMNS)


def matches(header: list[str]) -> bool:
    """True for the header of Kraken's ledgers or trades export."""
    return _is_ledger(header) or _is_trades(header)


def read(path: Path, *, wallet: str | None = None) -> list[LedgerEvent]:
    """Every event of a Kraken ledgers or trades export.

    Args:
        path: the exported CSV.
        wallet: the wallet to book into; default ``kraken``.

    Raises:
        InputError: naming every row that is malformed or not understood; nothing is returned.
    """
    wallet_name = wallet or FORMAT_NAME
    table = read_table(path, {LEDGERS: LEDGER_COLUMNS, TRADES: TRADES_COLUMNS})
    log = ProblemLog(table.source)
    if table.layout == LEDGERS:
        drafts = _ledger_drafts(table.rows, wallet_name, log)
    else:
        drafts = _trades_drafts(table.rows, wallet_name, log)
    events = assign_ids(drafts, prefix=FORMAT_NAME, log=log)
    log.raise_if_any()
    return events


def _origin(row: Row, ref: str) -> Origin:
    return Origin(source=row.source, row=row.number, ref=ref or None)


def _ledger_drafts(rows: list[Row], wallet: str, log: ProblemLog) -> list[Draft]:
    """Single rows in file order; each trade pair at the place of its first row."""
    legs: dict[str, list[Row]] = defaultdict(list)
    order: list[tuple[str, Row]] = []
    for row in rows:
        kind = row.text("type").lower()
        if kind in _PAIRED_TYPES and row.text("refid"):
            if not legs[row.text("refid")]:
                order.append(("pair", row))
            legs[row.text("refid")].append(row)
        else:
            order.append(("single", row))
    drafts: list[Draft] = []
    for what, row in order:
        with log.row(row):
            if what == "pair":
                drafts.extend(_pair_drafts(legs[row.text("refid")], wallet, log))
            else:
                drafts.extend(_single_drafts(row, wallet))
    return drafts


def _pair_drafts(rows: list[Row], wallet: str, log: ProblemLog) -> list[Draft]:
    refid = rows[0].text("refid")
    debits = [row for row in rows if decimal_cell(row, "amount") < 0]
    credits = [row for row in rows if decimal_cell(row, "amount") > 0]
    if len(rows) != 2 or len(debits) != 1 or len(credits) != 1:
        for other in rows[1:]:
            log.add(other.number, "refid", f"part of the ambiguous trade {refid} (see row {rows[0].number})")
        raise CellError("refid", f"trade {refid} has {len(rows)} ledger row(s) with {len(debits)} debit(s) "
                        f"and {len(credits)} credit(s); expected exactly one debit and one credit")
    given_row, received_row = debits[0], credits[0]
    given = (normalise_asset(given_row.required("asset")), -decimal_cell(given_row, "amount"))
    received = (normalise_asset(received_row.required("asset")), decimal_cell(received_row, "amount"))
    kind, side, counter = trade_kind_and_sides(given, received)
    fees = [(row, decimal_cell(row, "fee")) for row in (given_row, received_row)]
    fees = [(row, fee) for row, fee in fees if fee != 0]
    if any(fee < 0 for _, fee in fees):
        raise CellError("fee", "a negative fee on a trade leg is not understood")
    first = min(rows, key=lambda row: row.number)
    timestamp = min(time_cell(row, "time") for row in rows)
    note = "Kraken position settlement" if rows[0].text("type").lower() == "settled" else None
    fee_row, fee_amount = fees[0] if fees else (None, None)
    main = draft(
        timestamp=timestamp, kind=kind, wallet=wallet, asset=side[0], amount=side[1],
        counter_asset=counter[0], counter_amount=counter[1],
        fee_asset=normalise_asset(fee_row.text("asset")) if fee_row else None, fee_amount=fee_amount,
        note=note, origin=_origin(first, refid),
    )
    drafts = [Draft(main, refid)]
    for extra_row, extra_fee in fees[1:]:
        fee_event = draft(
            timestamp=time_cell(extra_row, "time"), kind=EventKind.FEE, wallet=wallet,
            asset=normalise_asset(extra_row.text("asset")), amount=extra_fee,
            note=f"fee of trade {refid}", origin=_origin(extra_row, extra_row.text("txid")),
        )
        drafts.append(Draft(fee_event, extra_row.text("txid") or f"{refid}:fee"))
    return drafts


def _single_drafts(row: Row, wallet: str) -> list[Draft]:
    kind = row.text("type").lower()
    subtype = row.text("subtype").lower()
    txid = row.text("txid")
    if not txid and kind in ("deposit", "withdrawal"):
        return []  # Kraken lists a funding twice: first pending without txid, then settled with it.
    if not txid:
        raise CellError("txid", "is empty")
    amount = decimal_cell(row, "amount")
    fee = decimal_cell(row, "fee")
    if fee < 0:
        raise CellError("fee", f"a negative fee is not understood on a {kind} row")
    asset = normalise_asset(row.required("asset"))
    common = {"timestamp": time_cell(row, "time"), "wallet": wallet, "origin": _origin(row, txid)}
    fee_fields = {"fee_asset": asset, "fee_amount": fee} if fee else {}

    if kind == "margin":
        if amount != 0:
            event = draft(kind=EventKind.REALIZED_PNL, asset=asset, amount=amount, **fee_fields, **common)
        elif fee:
            event = draft(kind=EventKind.INTEREST, asset=asset, amount=fee, note="Kraken margin opening fee",
                          **common)
        else:
            return []
        return [Draft(event, txid)]
    if kind == "rollover":
        if amount != 0:
            raise CellError("amount", "a rollover row that moves an amount, not only a fee, is unknown")
        if not fee:
            return []
        return [Draft(draft(kind=EventKind.INTEREST, asset=asset, amount=fee,
                            note="Kraken margin rollover fee", **common), txid)]
    if kind == "deposit" and amount > 0:
        deposit = draft(kind=EventKind.DEPOSIT, asset=asset, amount=amount, **fee_fields, **common)
        return [Draft(deposit, txid)]
    if kind == "withdrawal" and amount < 0:
        return [Draft(draft(kind=EventKind.WITHDRAWAL, asset=asset, amount=-amount, **fee_fields, **common),
                      txid)]
    if subtype in _INTERNAL_SUBTYPES and kind in ("transfer", "staking", "earn"):
        return []
    if kind in _INCOME_TYPES and amount > 0:
        return [Draft(draft(kind=EventKind.INCOME, asset=asset, amount=amount, **fee_fields,
                            note=f"Kraken {kind}", **common), txid)]
    what = f"{kind}/{subtype}" if subtype else kind
    raise CellError("type", f"a Kraken {what!r} row with amount {row.text('amount')} is not understood; "
                    "enter it in a marginbook ledger CSV instead")


def _split_pair(pair: str) -> tuple[str, str]:
    parts = split_symbol(pair, _PAIR_QUOTES)
    if parts is None:
        raise CellError("pair", f"cannot tell base and quote of pair {pair!r}")
    return normalise_asset(parts[0]), normalise_asset(parts[1])


def _trades_drafts(rows: list[Row], wallet: str, log: ProblemLog) -> list[Draft]:
    drafts: list[Draft] = []
    for row in rows:
        with log.row(row):
            drafts.append(_trade_draft(row, wallet))
    return drafts


def _trade_draft(row: Row, wallet: str) -> Draft:
    txid = row.required("txid")
    margin = decimal_of(row.text("margin"), "margin", allow_empty=True)
    if margin:
        raise CellError("margin", "a margin trade moves no coins on Kraken; import the ledgers export, "
                        "whose margin and rollover rows carry its profit, loss and fees")
    base, quote = _split_pair(row.required("pair"))
    side = row.text("type").lower()
    if side not in ("buy", "sell"):
        raise CellError("type", f"expected buy or sell, got {row.text('type')!r}")
    volume = decimal_cell(row, "vol")
    cost = decimal_cell(row, "cost")
    fee = decimal_cell(row, "fee")
    if fee < 0:
        raise CellError("fee", "must not be negative")
    event = draft(
        timestamp=time_cell(row, "time"), kind=EventKind(side), wallet=wallet, asset=base, amount=volume,
        counter_asset=quote, counter_amount=cost,
        fee_asset=quote if fee else None, fee_amount=fee if fee else None,
        origin=_origin(row, txid),
    )
    return Draft(event, txid)
