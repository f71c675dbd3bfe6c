"""Binance's transaction history statement: one balance change per row, every account in one file.

``User_ID,UTC_Time,Account,Operation,Coin,Change,Remark`` (older statements lack ``User_ID``).
``Change`` is signed; ``UTC_Time`` is ``YYYY-MM-DD HH:MM:SS`` in UTC. The layout, the account
names and most operation names are those BittyTax's Binance parser reads
(BittyTax/BittyTax ``src/bittytax/conv/parsers/binance.py``). A trade is
several rows with the same ``UTC_Time`` and ``Account`` (``Transaction Buy`` / ``Transaction
Spend`` / ``Transaction Fee``, or ``Transaction Sold`` / ``Transaction Revenue``, older
statements ``Buy`` / ``Sell`` / ``Fee``); partial fills of one order share the second and are
summed. When the rows of one second cannot be read as one exchange of one asset for another
(three assets, or a side missing), the group is ambiguous and every row of it is reported.

Mapping (``docs/importers.md``): margin loan → ``borrow``, margin repayment (and the repayment
of a liquidation) → ``repay``, margin interest (``Margin Fee``) → ``interest``, a liquidation fee
and a ``BNB Fee Deduction`` → ``fee``; in a futures account realized profit and loss → ``realized_pnl``,
funding fee → ``funding``, fee/commission → ``fee``; deposit/withdraw; earn interest, staking
rewards, distributions and airdrops → ``income``; moves between the user's own Binance accounts
and earn subscriptions/redemptions → nothing. Anything else is reported.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from marginbook.domain.events import EventKind, Origin
from marginbook.domain.numbers import decimal_context
from marginbook.importers._assets import trade_kind_and_sides
from marginbook.importers._csvrows import (
    CellError,
    Draft,
    ProblemLog,
    Row,
    Table,
    decimal_cell,
    draft,
    utc_time,
)

COLUMNS = ("User_ID", "UTC_Time", "Account", "Operation", "Coin", "Change", "Remark")

_TRADE_LEGS = frozenset({
    "buy", "sell", "transaction buy", "transaction spend", "transaction sold", "transaction revenue",
    "small assets exchange bnb", "binance convert", "large otc trading",
})
_TRADE_FEES = frozenset({"fee", "transaction fee"})
#: ``USDT-Futures``, ``USD-MFutures``, ``USD-M Futures`` and ``Coin-M Futures`` are the names
#: BittyTax meets; the others are kept for older or localised statements.
_FUTURES_ACCOUNTS = frozenset({
    "usdt-futures", "usd-mfutures", "usd-m futures", "coin-m futures", "usdⓈ-m futures",
    "usds-m futures", "um futures", "futures",
})
_MARGIN_ACCOUNTS = frozenset({"margin", "cross margin", "isolated margin", "isolatedmargin", "crossmargin"})
_LOANS = frozenset({"margin loan", "isolated margin loan"})
_REPAYMENTS = frozenset({"margin repayment", "isolated margin repayment"})
#: "Margin Fee" is how cross-margin statements name the hourly interest (as two public
#: statement parsers read it); the other names are kept for older statements.
_INTEREST = frozenset({
    "margin fee", "margin interest", "cross margin interest", "isolated margin interest", "interest",
})
#: Liquidation rows other parsers meet: the fee charged, and the debt repaid from the collateral.
_LIQUIDATION_FEES = frozenset({"isolated margin liquidation - fee", "cross margin liquidation - fee"})
_LIQUIDATION_REPAYMENTS = frozenset({
    "cross margin liquidation - repayment", "isolated margin liquidation - repayment",
})
#: Some statements write the year with two digits (``24-01-15 10:30:00``).
_TWO_DIGIT_YEAR = re.compile(r"^(\d{2})-(\d{2})-(\d{2})([ T].*)$")
_FUTURES = {
    "realized profit and loss": EventKind.REALIZED_PNL, "realize profit and loss": EventKind.REALIZED_PNL,
    "realized_pnl": EventKind.REALIZED_PNL,
    "funding fee": EventKind.FUNDING, "funding_fee": EventKind.FUNDING,
}
_FUTURES_FEES = frozenset({"fee", "commission", "transaction fee"})
#: BNB taken to pay a fee charged elsewhere (a margin trade's or interest's fee paid in BNB);
#: it is its own row, in the spot account, with no trade in the same second.
_BNB_FEE_DEDUCTION = "bnb fee deduction"
_INCOME_WORDS = ("interest", "reward", "distribution", "airdrop", "referral", "kickback", "cashback")
_INTERNAL_WORDS = ("transfer between", "subscription", "redemption", "transfer_in", "transfer_out",
                   "isolated margin transfer", "margin transfer")


_GroupKey = tuple[datetime | str, str]


def statement_time(row: Row) -> datetime:
    """The UTC time of a statement row, ``YYYY-MM-DD HH:MM:SS`` or ``YY-MM-DD HH:MM:SS``."""
    text = row.text("UTC_Time")
    short = _TWO_DIGIT_YEAR.match(text)
    if short is not None:
        text = f"20{short.group(1)}-{short.group(2)}-{short.group(3)}{short.group(4)}"
    return utc_time(text, "UTC_Time")


def _group_key(row: Row) -> _GroupKey:
    """(time, account) of a trade row; an unreadable time stays text, to be reported later."""
    try:
        moment: datetime | str = statement_time(row)
    except CellError:
        moment = row.text("UTC_Time")
    return moment, row.text("Account")


def drafts(table: Table, wallet: str, log: ProblemLog) -> list[Draft]:
    """The drafts of a statement: single rows in order, each trade at the place of its first row."""
    groups: dict[_GroupKey, list[Row]] = defaultdict(list)
    order: list[tuple[Row, _GroupKey | None]] = []  # single rows with None, trades by their key
    for row in table.rows:
        operation = row.text("Operation").lower()
        is_leg = operation in _TRADE_LEGS or (
            operation in _TRADE_FEES and row.text("Account").lower() not in _FUTURES_ACCOUNTS
        )
        if is_leg:
            key = _group_key(row)
            if not groups[key]:
                order.append((row, key))
            groups[key].append(row)
        else:
            order.append((row, None))
    joined = _join_split_seconds(groups, [key for _, key in order if key is not None])
    result: list[Draft] = []
    for row, group in order:
        if group in joined:
            continue
        with log.row(row):
            result.extend(_single(row, wallet) if group is None else _trade(groups[group], wallet, log))
    return result


def _sides(rows: list[Row]) -> tuple[int, int] | None:
    """How many assets the trade legs of ``rows`` give and receive; None when a cell is bad."""
    legs = [row for row in rows if row.text("Operation").lower() in _TRADE_LEGS]
    try:
        totals = _sum_by_coin(legs)
    except (CellError, ArithmeticError):
        return None
    return sum(1 for total in totals.values() if total < 0), sum(1 for total in totals.values() if total > 0)


def _join_split_seconds(groups: dict[_GroupKey, list[Row]], keys: list[_GroupKey]) -> set[_GroupKey]:
    """Join a one-sided trade group with the group of the next second of the same account.

    Binance writes a trade's legs with their own timestamps, so one trade can straddle a second
    (BittyTax's statement parser also looks one second ahead for the other legs). Two groups
    are joined only when one only gives, the other only receives, and together they are one
    exchange of one asset for another; anything else is left for :func:`_trade` to report.
    Returns the keys whose rows were moved into the group of the second before.
    """
    joined: set[_GroupKey] = set()
    for key in keys:
        moment, account = key
        if key in joined or not isinstance(moment, datetime):
            continue
        later = (moment + timedelta(seconds=1), account)
        if later not in groups or later in joined:
            continue
        first, second = _sides(groups[key]), _sides(groups[later])
        if first is None or second is None or sorted([first, second]) != [(0, 1), (1, 0)]:
            continue
        groups[key].extend(groups[later])
        joined.add(later)
    return joined


def _sum_by_coin(rows: list[Row]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    with decimal_context():
        for row in rows:
            totals[row.required("Coin").upper()] += decimal_cell(row, "Change")
    return dict(totals)


def _trade(rows: list[Row], wallet: str, log: ProblemLog) -> list[Draft]:
    first = rows[0]
    legs = [row for row in rows if row.text("Operation").lower() in _TRADE_LEGS]
    fee_rows = [row for row in rows if row.text("Operation").lower() in _TRADE_FEES]
    totals = _sum_by_coin(legs)
    given = [(coin, -total) for coin, total in totals.items() if total < 0]
    received = [(coin, total) for coin, total in totals.items() if total > 0]
    if len(given) != 1 or len(received) != 1:
        for other in rows[1:]:
            log.add(other.number, "UTC_Time", f"part of the ambiguous trade group of row {first.number}")
        raise CellError("UTC_Time", f"the {len(rows)} trade rows at {first.text('UTC_Time')} in "
                        f"{first.text('Account')} give {len(given)} and receive {len(received)} asset(s); "
                        "they cannot be read as one trade (split the file or enter them in a ledger CSV)")
    fees = [(coin, -total) for coin, total in _sum_by_coin(fee_rows).items() if total != 0]
    if any(amount < 0 for _, amount in fees):
        raise CellError("Change", "a positive trade fee (a rebate) is not understood")
    kind, side, counter = trade_kind_and_sides(given[0], received[0])
    timestamp = statement_time(first)
    origin = Origin(first.source, first.number)
    main = draft(
        timestamp=timestamp, kind=kind, wallet=wallet, asset=side[0], amount=side[1],
        counter_asset=counter[0], counter_amount=counter[1],
        fee_asset=fees[0][0] if fees else None, fee_amount=fees[0][1] if fees else None, origin=origin,
    )
    result = [Draft(main)]
    for coin, amount in fees[1:]:
        result.append(Draft(draft(timestamp=timestamp, kind=EventKind.FEE, wallet=wallet, asset=coin,
                                  amount=amount, note="trade fee", origin=origin)))
    return result


def _single(row: Row, wallet: str) -> list[Draft]:
    account = row.text("Account").lower()
    operation = row.text("Operation").lower()
    change = decimal_cell(row, "Change")
    coin = row.required("Coin").upper()
    common = {"timestamp": statement_time(row), "wallet": wallet, "asset": coin,
              "origin": Origin(row.source, row.number)}
    remark = row.text("Remark") or None
    if change == 0:
        return []
    if any(word in operation for word in _INTERNAL_WORDS) and "p2p" not in operation:
        return []  # a move between the user's own Binance accounts or earn products
    if operation in _LOANS and change > 0:
        return [Draft(draft(kind=EventKind.BORROW, amount=change, note=remark, **common))]
    if operation in _REPAYMENTS and change < 0:
        return [Draft(draft(kind=EventKind.REPAY, amount=-change, note=remark, **common))]
    if operation in _LIQUIDATION_REPAYMENTS and change < 0:
        return [Draft(draft(kind=EventKind.REPAY, amount=-change, note=f"Binance {row.text('Operation')}",
                            **common))]
    if operation in _LIQUIDATION_FEES and change < 0:
        return [Draft(draft(kind=EventKind.FEE, amount=-change, note=f"Binance {row.text('Operation')}",
                            **common))]
    if account in _MARGIN_ACCOUNTS and operation in _INTEREST and change < 0:
        return [Draft(draft(kind=EventKind.INTEREST, amount=-change, note=remark, **common))]
    if account in _FUTURES_ACCOUNTS:
        kind = _FUTURES.get(operation)
        if kind is not None:
            return [Draft(draft(kind=kind, amount=change, note=remark, **common))]
        if operation in _FUTURES_FEES and change < 0:
            return [Draft(draft(kind=EventKind.FEE, amount=-change, note="futures commission", **common))]
    if operation == _BNB_FEE_DEDUCTION and change < 0:
        return [Draft(draft(kind=EventKind.FEE, amount=-change, note="Binance BNB Fee Deduction", **common))]
    if operation == "deposit" and change > 0:
        return [Draft(draft(kind=EventKind.DEPOSIT, amount=change, **common))]
    if operation in ("withdraw", "withdrawal") and change < 0:
        return [Draft(draft(kind=EventKind.WITHDRAWAL, amount=-change, **common))]
    if change > 0 and account not in _MARGIN_ACCOUNTS and any(word in operation for word in _INCOME_WORDS):
        return [Draft(draft(kind=EventKind.INCOME, amount=change, note=f"Binance {row.text('Operation')}",
                            **common))]
    raise CellError("Operation", f"{row.text('Operation')!r} of {row.text('Change')} {coin} in account "
                    f"{row.text('Account')!r} is not understood; enter it in a marginbook ledger CSV instead")
