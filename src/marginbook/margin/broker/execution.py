"""The money of one fill: open, add to, reduce or liquidate a position, emitting ledger events.

The account's state moves by the float amounts of the rule functions, exactly as the
backtest kernel's does; each event amount is rounded at the boundary by
:class:`~marginbook.margin.ledger.Residuals`, which carries the rounding residual from one
event to the next, so the events still reconcile with the account's cash to the smallest
unit (see :mod:`marginbook.margin.ledger`). A loan's principal is rounded on its own and
repaid exactly (``Position.loan``).

Event shapes, per settlement style (spec/ledger-csv.md):

- P&L-settled (futures, Kraken): opening/closing fees as ``fee``; a close as
  ``realized_pnl`` (signed, with ``opened_at``); Kraken's opening fee and rollovers as
  ``interest``; a liquidation as ``realized_pnl`` plus a ``fee`` noted "liquidation fee".
- Spot-settled (Binance margin): a long is ``borrow`` (quote) + ``buy``; closing it ``sell``
  + ``repay`` + ``interest``; a short is ``borrow`` (base) + ``sell``, closed by ``buy`` +
  ``repay`` + ``interest`` (interest in the base asset). A forced sale of a long is a
  ``liquidation``; a forced close of a short is the forced ``buy`` and the ``repay``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from marginbook.domain.events import EventKind
from marginbook.domain.numbers import ZERO
from marginbook.margin import rules
from marginbook.margin.account import Account, Position
from marginbook.margin.broker.spot import close_spot_long, close_spot_short
from marginbook.margin.ledger import QUANTUM, EventSink, Residuals, to_decimal

#: Quantities below this are treated as zero (a fully closed position).
EPSILON = 1e-12


@dataclass(slots=True)
class Totals:
    """Running totals of a run, exact, in the quote asset."""

    interest: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    trades: list[dict[str, Any]] = field(default_factory=list)
    liquidations: list[dict[str, Any]] = field(default_factory=list)


class Executor:
    """Moves money for fills on one account and writes the ledger events."""

    def __init__(self, account: Account, sink: EventSink, run_id: str) -> None:
        self.account = account
        self.sink = sink
        self.run_id = run_id
        self.totals = Totals()
        self.rounding = Residuals()
        self._openings = 0

    # ----- small helpers -------------------------------------------------------------
    def _debit_quote(
        self, kind: EventKind, at: datetime, amount: float, position: Position, note: str
    ) -> float:
        """Take ``amount`` of quote (a fee, interest) from cash and emit it; return the float moved."""
        if amount <= 0.0:
            return 0.0
        self.account.cash -= amount
        self.account.version += 1
        value = self.rounding.debit(self.account.quote, amount)
        if value <= 0:
            return amount
        self.sink.emit(kind, at, self.account.quote, value, position=position.ledger_id, note=note)
        if kind is EventKind.FEE:
            self.totals.fees += value
        elif kind is EventKind.INTEREST:
            self.totals.interest += value
        return amount

    def fee_fields(self, fee: Decimal) -> dict[str, Any]:
        """The fee columns of a trade event: the quote fee, or nothing when it is zero."""
        return {"fee_asset": self.account.quote, "fee_amount": fee} if fee > 0 else {}

    def deposit(self, at: datetime, amount: Decimal, note: str) -> None:
        """Credit ``amount`` of quote from outside (the run's deposit, a margin-call top-up)."""
        self.sink.emit(EventKind.DEPOSIT, at, self.account.quote, amount, note=note)
        self.account.cash += float(amount)
        self.account.version += 1

    def deposit_collateral(self, at: datetime, amount: Decimal, note: str) -> None:
        """Credit ``amount`` of the base asset as collateral (a ``deposit`` of coins)."""
        self.sink.emit(EventKind.DEPOSIT, at, self.account.base, amount, note=note)
        self.account.base_collateral += float(amount)
        self.account.version += 1

    def cover_negative_cash(self, at: datetime, price: float) -> None:
        """Sell collateral coins to bring a negative cash balance back to zero.

        What venues do in multi-asset margin ("auto-exchange"): a loss settled in the quote
        asset beyond the quote held is paid by selling the other collateral at the price.
        The sale is a real ``sell`` (a taxable disposal of the coins).
        """
        account = self.account
        if self.sink.cash(account.quote) >= 0 or account.base_collateral <= 0 or not price > 0:
            return
        shortfall = -account.cash
        quantity = to_decimal(min(account.base_collateral, shortfall / price))
        if float(quantity) * price < shortfall and float(quantity + QUANTUM) <= account.base_collateral:
            quantity += QUANTUM  # round up one unit so the sale covers the shortfall
        if quantity <= 0:
            return
        proceeds = to_decimal(float(quantity) * price)
        self.sink.emit(
            EventKind.SELL, at, account.base, quantity, counter_asset=account.quote, counter_amount=proceeds,
            note="auto-exchange of collateral to cover a negative balance",
        )  # fmt: skip
        account.base_collateral -= float(quantity)
        account.cash += float(proceeds)
        account.version += 1
        self.totals.trades.append(
            {
                "time": at,
                "side": "sell",
                "price": to_decimal(price),
                "quantity": quantity,
                "fee": ZERO,
                "position": "collateral",
                "reason": "auto-exchange",
            }
        )

    def _trade_record(
        self,
        at: datetime,
        side: int,
        price: float,
        quantity: float,
        fee: float,
        position: Position,
        reason: str,
    ) -> dict[str, Any]:
        record = {
            "time": at,
            "side": "buy" if side > 0 else "sell",
            "price": to_decimal(price),
            "quantity": to_decimal(quantity),
            "fee": to_decimal(fee),
            "position": position.ledger_id,
            "reason": reason,
        }
        self.totals.trades.append(record)
        return record

    # ----- opening -------------------------------------------------------------------
    def open(
        self, name: str, side: int, quantity: float, price: float, at: datetime, epoch: int,
        leverage: float, fee_rate: float, reason: str,
    ) -> Position:  # fmt: skip
        """Open ``name`` (or add to it, same side) with ``quantity`` at ``price``; caller checked funds."""
        account = self.account
        account.version += 1
        venue = account.venue
        notional = quantity * price
        own = rules.initial_margin(notional, leverage)
        position = account.positions.get(name)
        if position is None:
            self._openings += 1
            position = Position(
                name=name,
                ledger_id=f"{self.run_id}/{name}/{self._openings}",
                side=side,
                quantity=0.0,
                entry_price=price,
                leverage=leverage,
                collateral=0.0,
                opened_at=at,
                opened_epoch=epoch,
            )
            if venue.settlement == "spot":
                position.rate = rules.rate_per_charge(
                    venue.interest_rate, venue.interest_rate_period, venue.interest_charge_period
                )
            elif venue.liquidation_rule == "kraken":
                position.rate = (
                    venue.interest_rate if side > 0 else venue.extra.get("short_interest_rate", 0.0)
                )
            account.positions[name] = position
        total = position.quantity + quantity
        if position.quantity > 0.0:  # an addition: the average entry price
            position.entry_price = (position.entry_price * position.quantity + price * quantity) / total
        q_dec = to_decimal(quantity)
        fee = notional * fee_rate
        if venue.settlement == "pnl":
            fee = self._debit_quote(EventKind.FEE, at, fee, position, f"trading fee ({reason})")
            if venue.liquidation_rule == "kraken":
                lent = notional - own if side > 0 else notional
                opening_rate = (
                    venue.opening_fee_rate if side > 0 else venue.extra.get("short_opening_fee_rate", 0.0)
                )
                self._debit_quote(EventKind.INTEREST, at, lent * opening_rate, position, "Kraken opening fee")
                position.borrowed += lent
        elif side > 0:
            lent = notional - own
            borrow = to_decimal(lent)
            self.rounding.fixed(account.quote, lent, borrow)
            cost = self.rounding.debit(account.quote, notional)
            fee_dec = self.rounding.debit(account.quote, fee)
            if borrow > 0:
                self.sink.emit(EventKind.BORROW, at, account.quote, borrow, position=position.ledger_id)
            self.sink.emit(
                EventKind.BUY, at, account.base, q_dec, counter_asset=account.quote, counter_amount=cost,
                **self.fee_fields(fee_dec),
                position=position.ledger_id, note=reason,
            )  # fmt: skip
            account.cash += lent - notional - fee
            self.totals.fees += fee_dec
            position.borrowed += lent
            position.loan += borrow
        else:
            proceeds = self.rounding.credit(account.quote, notional)
            fee_dec = self.rounding.debit(account.quote, fee)
            self.sink.emit(EventKind.BORROW, at, account.base, q_dec, position=position.ledger_id)
            self.sink.emit(
                EventKind.SELL, at, account.base, q_dec, counter_asset=account.quote, counter_amount=proceeds,
                **self.fee_fields(fee_dec),
                position=position.ledger_id, note=reason,
            )  # fmt: skip
            account.cash += notional - fee
            self.totals.fees += fee_dec
            position.borrowed += quantity
            position.loan += q_dec
            position.proceeds += notional
        position.quantity = total
        position.collateral += own
        if len(venue.tier_floors) > 1:
            tier = rules.tier_index(total * price, venue.tier_floors)  # type: ignore[arg-type]
            position.risk_tier = max(position.risk_tier, tier)
        self._trade_record(at, side, price, quantity, fee, position, reason)
        if venue.settlement == "spot":
            self.accrue_interest(position, epoch)
        return position

    # ----- interest ------------------------------------------------------------------
    def accrue_interest(self, position: Position, until_epoch: int) -> None:
        """Book the interest charges that fall before ``until_epoch`` (spot: accrue; Kraken: pay)."""
        venue = self.account.venue
        if venue.settlement == "spot":
            due = rules.charges_count(
                position.opened_epoch, until_epoch, venue.interest_charge_period,
                venue.interest_clock_aligned, venue.interest_charge_at_open,
            )  # fmt: skip
            new = due - position.charges
            if new > 0:
                self.account.version += 1
                position.accrued += rules.simple_interest(position.borrowed, position.rate, new)
                position.charges = due
        elif venue.liquidation_rule == "kraken":
            due = rules.kraken_rollovers(position.opened_epoch, until_epoch)
            while position.charges < due:
                when = rules.charge_time(
                    position.opened_epoch, rules.FOUR_HOURS, False, False, position.charges
                )
                self._debit_quote(
                    EventKind.INTEREST, datetime.fromtimestamp(when, UTC),
                    position.borrowed * position.rate, position, "Kraken rollover fee",
                )  # fmt: skip
                position.charges += 1

    # ----- closing -------------------------------------------------------------------
    def close(
        self, position: Position, quantity: float, price: float, at: datetime, epoch: int,
        fee_rate: float, reason: str, liquidation: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """Reduce ``position`` by ``quantity`` at ``price`` (all of it when liquidating)."""
        account = self.account
        account.version += 1
        venue = account.venue
        quantity = min(quantity, position.quantity)
        fraction = quantity / position.quantity
        if venue.settlement == "spot" or venue.liquidation_rule == "kraken":
            self.accrue_interest(position, epoch)
        if venue.settlement == "pnl":
            fee, pnl = self._close_pnl(position, quantity, fraction, price, at, fee_rate, reason, liquidation)
        elif position.side > 0:
            fee, pnl, price = close_spot_long(
                self, position, quantity, fraction, price, at, fee_rate, reason, liquidation
            )
        else:
            fee, pnl, price = close_spot_short(
                self, position, quantity, fraction, price, at, fee_rate, reason, liquidation
            )
        position.collateral -= position.collateral * fraction
        position.quantity -= quantity
        record = self._trade_record(at, -position.side, price, quantity, fee, position, reason)
        record["pnl"] = to_decimal(pnl)
        if position.quantity <= EPSILON:
            del account.positions[position.name]
        return record

    def partial_liquidation(
        self, position: Position, quantity: float, price: float, at: datetime, fee_rate: float, tier: int
    ) -> dict[str, Any]:
        """A tiered venue's liquidation engine sells ``quantity`` of ``position`` and keeps the rest open.

        P&L-settled venues only (the futures venues that liquidate partially): the sold part's
        P&L is realized (``realized_pnl``, noted "partial liquidation") and ``fee_rate`` is
        charged on it (``fee`` noted "liquidation fee"). An isolated position keeps its whole
        margin less that loss and fee, as the venue keeps the margin with the position (the
        point of the reduction is that the rest is margin compliant); a cross position's
        margin shrinks with its size. ``tier`` is the tier the rest is in (its new risk tier).
        """
        account = self.account
        account.version += 1
        fraction = quantity / position.quantity
        pnl = rules.unrealized_pnl(position.side, quantity, position.entry_price, price)
        pnl_dec = self.rounding.credit(account.quote, pnl, signed=True)
        account.cash += pnl
        if pnl_dec != 0:
            self.sink.emit(
                EventKind.REALIZED_PNL, at, account.quote, pnl_dec, position=position.ledger_id,
                opened_at=position.opened_at,
                note=f"partial liquidation of {to_decimal(quantity)} {account.base}",
            )  # fmt: skip
        fee = self._debit_quote(
            EventKind.FEE, at, quantity * price * fee_rate, position, "liquidation fee (partial liquidation)"
        )
        if account.mode == "isolated":
            position.collateral += pnl - fee
        else:
            position.collateral -= position.collateral * fraction
        position.quantity -= quantity
        position.risk_tier = tier
        record = self._trade_record(at, -position.side, price, quantity, fee, position, "liquidation")
        record["pnl"] = pnl_dec
        return record

    def liquidation_fee(self, notional: float, room: float, maintenance: float) -> float:
        venue = self.account.venue
        if venue.liquidation_fee_kind == "remaining_margin":
            fee = maintenance
        else:
            fee = notional * (venue.liquidation_fee_rate or venue.taker_fee)
        return max(0.0, min(fee, room))

    def _close_pnl(
        self, position: Position, quantity: float, fraction: float, price: float, at: datetime,
        fee_rate: float, reason: str, liquidation: bool,
    ) -> tuple[float, float]:  # fmt: skip
        account = self.account
        pnl = rules.unrealized_pnl(position.side, quantity, position.entry_price, price)
        own = position.collateral * fraction
        if liquidation:
            if account.mode == "isolated":
                pnl = max(pnl, -own)
                room = own + pnl
                maintenance = room
            else:
                room = account.equity(price) - (account.position_value(position, price) * (1 - fraction))
                maintenance = account.maintenance_margin(position, price) * fraction
            fee = self.liquidation_fee(quantity * price, room, maintenance)
        else:
            fee = quantity * price * fee_rate
        pnl_dec = self.rounding.credit(account.quote, pnl, signed=True)
        account.cash += pnl
        if pnl_dec != 0:
            self.sink.emit(
                EventKind.REALIZED_PNL, at, account.quote, pnl_dec, position=position.ledger_id,
                opened_at=position.opened_at, note="liquidation" if liquidation else reason,
            )  # fmt: skip
        note = "liquidation fee" if liquidation else f"trading fee ({reason})"
        fee = self._debit_quote(EventKind.FEE, at, fee, position, note)
        if account.venue.liquidation_rule == "kraken":
            position.borrowed -= position.borrowed * fraction
        return fee, pnl

    # ----- funding -------------------------------------------------------------------
    def pay_funding(self, position: Position, mark_price: float, rate: float, at: datetime) -> None:
        """Settle one funding payment of a perpetual position (longs pay a positive rate)."""
        payment = rules.funding_payment(position.side, position.quantity, mark_price, rate)
        if payment == 0.0:
            return
        self.account.cash += payment
        self.account.version += 1
        amount = self.rounding.credit(self.account.quote, payment, signed=True)
        if amount == 0:
            return
        self.sink.emit(
            EventKind.FUNDING, at, self.account.quote, amount, position=position.ledger_id, note="funding"
        )
        self.totals.funding += amount
