"""The bar loop: what fills when, under the one intrabar rule (:mod:`marginbook.margin.rules.fills`).

Each bar, in this order (the conservative reading of a bar, stated once in docs/margin.md):

1. a funding time at the bar's open settles for the positions open before it;
   a position (cross: the account) whose liquidation price the open has gapped through is
   liquidated at the open, before any order: the venue's liquidation engine acts first
   (:func:`~marginbook.margin.rules.liquidated_at_open`);
2. orders whose time has come go live, in file order; market orders fill at the open (a
   market order on the other side of a position just liquidated at this open finds nothing
   to close: that part is dropped, not turned into an opposite position);
3. live limit and stop entries fill where the bar reaches them;
4. every position's protective exits and its liquidation (isolated) or the account's
   liquidation (cross) are decided by :func:`~marginbook.margin.rules.exit_fill`, oldest
   position first; on a tiered venue a liquidation may sell only part of a position
   (:func:`~marginbook.margin.rules.partial_liquidation_quantity`), and the rest is looked at
   again from that price;
5. funding times inside the bar settle, at the bar's open price, for the positions still
   open (the price at that moment is unknown; the open is the last price known);
6. a margin call is raised when the adverse extreme crosses the call price, and answered
   by the configured response (``none`` or a top-up, booked as a ``deposit``);
7. interest charges falling before the next bar are booked;
8. trailing stops move with the bar's favourable extreme, so they act from the next bar;
9. a negative cash balance is covered by selling collateral coins at the close.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from marginbook.domain.events import EventKind
from marginbook.domain.numbers import plain
from marginbook.margin import rules
from marginbook.margin.account import Account, Position, RiskLevels
from marginbook.margin.broker.config import RunConfig, Snapshot
from marginbook.margin.broker.execution import EPSILON, Executor
from marginbook.margin.ledger import EventSink, to_decimal
from marginbook.margin.orders import PROTECTIVE_TYPES, Order
from marginbook.margin.venues import tier_max_leverage

__all__ = ["Engine", "RunConfig", "Snapshot", "run_bars"]

#: How many times in one bar a position is looked at again after a partial liquidation (each
#: one lowers its tier, so a venue's tier count bounds it; this only guards against a loop).
_MAX_ROUNDS = 64
#: Base units below half the ledger's unit (1e-8): what is left of an order after it closed
#: a position, when the order named the position's size as a float prints it.
_DUST = 0.5e-8


class Engine:
    """Drives one account through bars; see the module docstring for the order of things.

    Args:
        config: the run's configuration.
        orders: the orders, in time order.
        record: keep a :class:`Snapshot` per bar (tests; costs memory on long runs).
    """

    def __init__(self, config: RunConfig, orders: list[Order], *, record: bool = False) -> None:
        self.config = config
        self.account = Account(config.venue, config.mode, config.base, config.quote)
        self.sink = EventSink(config.run_id, config.wallet)
        self.executor = Executor(self.account, self.sink, config.run_id)
        self.pending = list(orders)
        self._next_order = 0
        self.entries: list[Order] = []
        self.protection: dict[str, list[Order]] = {}
        self.margin_calls: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self._called: set[str] = set()
        self.snapshots: list[Snapshot] = []
        self.record = record
        self.last_price = math.nan
        self.last_time: datetime | None = None
        self._started = False
        venue = config.venue
        self._charges_interest = venue.settlement == "spot" or venue.liquidation_rule == "kraken"
        self._levels_key: tuple[int, float] = (-1, math.nan)
        self._levels = RiskLevels(1, math.nan, math.nan)
        #: Positions liquidated at this bar's gapped open: name -> (side, quantity not yet
        #: claimed by a market order meant to close them).
        self._gapped: dict[str, tuple[int, float]] = {}

    # ----- public --------------------------------------------------------------------
    def start(self, at: datetime) -> None:
        """Book the opening deposit (and any base-asset collateral)."""
        if self.config.deposit > 0:
            self.executor.deposit(at, self.config.deposit, "paper run deposit")
        if self.config.base_deposit > 0:
            self.executor.deposit_collateral(at, self.config.base_deposit, "paper run deposit (collateral)")
        self._started = True

    def on_bar(
        self, at: datetime, epoch: int, open_: float, high: float, low: float, close: float, next_epoch: int
    ) -> None:
        """Process one bar that opens at ``epoch`` and lasts until ``next_epoch``."""
        if not self._started:
            self.start(at)
        self._funding(epoch, epoch + 1, open_)
        self._liquidate_gapped_open(at, epoch, open_)
        self._activate(at, epoch, open_)
        self._fill_entries(at, epoch, open_, high, low)
        self._exits(at, epoch, open_, high, low)
        self._funding(epoch + 1, next_epoch, open_)
        self._margin_calls(at, open_, high, low)
        if self._charges_interest:
            for position in list(self.account.positions.values()):
                self.executor.accrue_interest(position, next_epoch)
        self._trail(high, low)
        self.executor.cover_negative_cash(at, close)
        self.last_price, self.last_time = close, at
        if self.record:
            self.snapshots.append(self.snapshot(at, close))

    def snapshot(self, at: datetime, price: float) -> Snapshot:
        """The account's valuation at ``price``."""
        account = self.account
        positions = account.positions.values()
        return Snapshot(
            time=at,
            price=price,
            cash=account.cash,
            collateral=account.base_collateral * price,
            value=sum(account.position_value(p, price) for p in positions),
            debt=sum(account.position_debt(p, price) for p in positions),
            accrued=sum(account.position_accrued(p, price) for p in positions),
            equity=account.equity(price),
        )

    def _account_levels(self, price: float) -> RiskLevels:
        """The cross account's levels at ``price``, recomputed only when the account changed."""
        key = (self.account.version, price)
        if key != self._levels_key:
            self._levels = self.account.account_levels(price)
            self._levels_key = key
        return self._levels

    # ----- steps ---------------------------------------------------------------------
    def _funding(self, epoch: int, next_epoch: int, open_: float) -> None:
        """Settle the funding times in ``[epoch, next_epoch)`` for the positions open now."""
        rate = self.config.funding_rate
        if not self.config.venue.perpetual or rate == 0.0 or not self.account.positions:
            return
        interval = int(self.config.venue.funding_interval_hours * 3600)
        instant = -(-epoch // interval) * interval
        while instant < next_epoch:
            when = datetime.fromtimestamp(instant, UTC)
            for position in list(self.account.positions.values()):
                self.executor.pay_funding(position, open_, rate, when)
            instant += interval

    def _liquidate_gapped_open(self, at: datetime, epoch: int, open_: float) -> None:
        """Liquidate at the open what the open has gapped through, before any order there.

        The venue's liquidation engine acts before the trader's order at that open; what it
        closes is remembered for this bar (name -> side and units liquidated) so that a
        market order meant to close the position is not read as an order to open the other
        side. A partial liquidation (tiered venues) is followed by another look at the open:
        the rest may still lie beyond its new liquidation price.
        """
        self._gapped.clear()
        account = self.account
        if not account.positions:
            return
        before: dict[str, tuple[int, float]] | None = None  # taken only when something is liquidated
        if account.mode == "cross":
            for _ in range(_MAX_ROUNDS):
                if not account.positions:
                    break
                levels = self._account_levels(open_)
                if not rules.liquidated_at_open(levels.direction, open_, levels.liquidation_price):
                    break
                if before is None:
                    before = {p.name: (p.side, p.quantity) for p in account.positions.values()}
                if not self._liquidate(list(account.positions.values()), open_, at, epoch):
                    break
        else:
            for position in list(account.positions.values()):
                for _ in range(_MAX_ROUNDS):
                    liquidation = account.position_levels(position).liquidation_price
                    if not rules.liquidated_at_open(position.side, open_, liquidation):
                        break
                    if before is None:
                        before = {p.name: (p.side, p.quantity) for p in account.positions.values()}
                    if not self._liquidate([position], open_, at, epoch):
                        break
        if before is None:
            return
        for name, (side, quantity) in before.items():
            left = account.positions[name].quantity if name in account.positions else 0.0
            if left < quantity:
                self._gapped[name] = (side, quantity - left)

    def _exposure(self, name: str) -> int:
        position = self.account.positions.get(name)
        if position is not None:
            return position.side
        for order in self.entries:
            if order.position == name and order.status == "live":
                return order.side
        return 0

    def _activate(self, at: datetime, epoch: int, open_: float) -> None:
        while self._next_order < len(self.pending) and self.pending[self._next_order].epoch <= epoch:
            order = self.pending[self._next_order]
            self._next_order += 1
            order.status = "live"
            if order.type == "market":
                self._execute(order, open_, at, epoch, taker=True)
            elif order.type in PROTECTIVE_TYPES and self._exposure(order.position) == -order.side:
                order.protective = True
                self.protection.setdefault(order.position, []).append(order)
                position = self.account.positions.get(order.position)
                if order.type == "trailing_stop" and position is not None:
                    order.trail_level = rules.trailing_stop_level(position.side, math.nan, open_, order.trail)
            elif order.type in ("limit", "stop"):
                self.entries.append(order)
            else:
                order.status = "cancelled"
                order.note = f"a {order.type} needs an open position on the other side"

    def _fill_entries(self, at: datetime, epoch: int, open_: float, high: float, low: float) -> None:
        if not self.entries:
            return
        for order in self.entries:
            if order.status != "live":
                continue
            kind = rules.LIMIT if order.type == "limit" else rules.STOP_MARKET
            level = order.price if order.type == "limit" else order.stop_price
            price = rules.order_fill_price(order.side > 0, kind, open_, high, low, level)
            if not math.isnan(price):
                self._execute(order, price, at, epoch, taker=order.type != "limit")
        self.entries = [o for o in self.entries if o.status == "live"]

    def _protective_levels(self, position: Position) -> tuple[float, float, Order | None, Order | None]:
        stop = take = math.nan
        stop_order = take_order = None
        for order in self.protection.get(position.name, []):
            if order.status != "live" or order.side != -position.side:
                continue  # done, or waiting for an entry on the other side
            if order.type == "take_profit":
                level = order.price
                if math.isnan(take) or (level < take if position.side > 0 else level > take):
                    take, take_order = level, order
            else:
                level = order.stop_price if order.type == "stop" else order.trail_level
                if math.isnan(level):
                    continue
                if math.isnan(stop) or (level > stop if position.side > 0 else level < stop):
                    stop, stop_order = level, order
        return stop, take, stop_order, take_order

    def _exits(self, at: datetime, epoch: int, open_: float, high: float, low: float) -> None:
        """Protective exits and liquidations inside the bar (the one intrabar rule).

        After a partial liquidation at a price, the bar's path goes on from that price: the
        rest of the position is checked again with that price as the reference open, its
        stop before its new liquidation price, and no take-profit (a liquidation beats a
        take-profit in the bar that reaches it).
        """
        account = self.account
        cross = account.mode == "cross"
        for position in list(account.positions.values()):
            partial_at = self._exit_position(position, at, epoch, open_, open_, high, low, True)
            for _ in range(_MAX_ROUNDS):
                if partial_at is None:
                    break
                partial_at = self._exit_position(position, at, epoch, open_, partial_at, high, low, False)
        if not cross:
            return
        reference = open_
        for _ in range(_MAX_ROUNDS):
            if not account.positions:
                return
            levels = self._account_levels(open_)
            code, price = rules.exit_fill(
                levels.direction, reference, high, low, math.nan, math.nan, levels.liquidation_price
            )
            if code != rules.LIQUIDATION:
                return
            if not self._liquidate(list(account.positions.values()), price, at, epoch):
                return
            reference = price
            for position in list(account.positions.values()):
                self._exit_position(position, at, epoch, open_, reference, high, low, False)

    def _exit_position(
        self, position: Position, at: datetime, epoch: int, open_: float, reference: float, high: float,
        low: float, take_profit: bool,
    ) -> float | None:  # fmt: skip
        """One look at one position's stop, take-profit and (isolated) liquidation in the bar.

        ``reference`` is the price the bar's path starts from (its open, or the price of a
        partial liquidation earlier in the bar); a cross account's levels are taken with
        tiers at the bar's open, as everywhere in the bar. Returns the price of a partial liquidation
        (the rest is to be looked at again from there), else ``None``.
        """
        account = self.account
        if position.name not in account.positions:
            return None
        stop, take, stop_order, take_order = self._protective_levels(position)
        if not take_profit:
            take, take_order = math.nan, None
        if account.mode == "cross":
            levels = self._account_levels(open_) if account.positions else None
            direction_matches = levels is not None and levels.direction == position.side
            liquidation = levels.liquidation_price if levels is not None and direction_matches else math.nan
        else:
            liquidation = account.position_levels(position).liquidation_price
        code, price = rules.exit_fill(position.side, reference, high, low, stop, take, liquidation)
        if code == rules.STOP and stop_order is not None:
            self._close_by(stop_order, position, price, at, epoch, taker=True)
        elif code == rules.TAKE_PROFIT and take_order is not None:
            self._close_by(take_order, position, price, at, epoch, taker=False)
        elif code == rules.LIQUIDATION and account.mode == "isolated" and self._liquidate(
            [position], price, at, epoch
        ):
            return price
        return None

    def _margin_calls(self, at: datetime, open_: float, high: float, low: float) -> None:
        account = self.account
        if not account.positions:
            self._called.clear()
            return
        checks: list[tuple[str, RiskLevels, Position | None]]
        if account.mode == "cross":
            checks = [("account", self._account_levels(open_), None)]
        else:
            checks = [(p.ledger_id, account.position_levels(p), p) for p in account.positions.values()]
        for key, levels, position in checks:
            call = levels.call_price
            adverse = low if levels.direction > 0 else high
            touched = not math.isnan(call) and (adverse <= call if levels.direction > 0 else adverse >= call)
            if not touched:
                self._called.discard(key)
                continue
            if key in self._called:
                continue
            self._called.add(key)
            price = min(open_, call) if levels.direction > 0 else max(open_, call)
            deadline_hours = account.venue.margin_call_deadline_hours
            record: dict[str, Any] = {
                "time": at,
                "price": to_decimal(price),
                "quantity": to_decimal(position.quantity if position else self._open_quantity()),
                "position": position.ledger_id if position else "account",
                "level": to_decimal(account.venue.margin_call_level),
                "deadline": at + timedelta(hours=deadline_hours) if deadline_hours else None,
                "response": "none",
            }
            topup = self.config.topup
            if topup is not None and topup > 0:
                self.executor.deposit(at, topup, f"margin call top-up ({record['position']})")
                if position is not None:
                    self._add_isolated_margin(position, float(topup), at)
                record["response"] = f"topup {plain(topup)}"
                record["deposit"] = topup
            self.margin_calls.append(record)

    def _add_isolated_margin(self, position: Position, amount: float, at: datetime) -> None:
        """A top-up backs the called position: more margin (futures), or debt repaid (spot long)."""
        if self.account.venue.settlement == "spot" and position.side > 0:
            repaid = min(to_decimal(min(amount, position.borrowed)), position.loan)
            if repaid > 0:
                self.sink.emit(EventKind.REPAY, at, self.account.quote, repaid, position=position.ledger_id)
                self.account.cash -= float(repaid)
                position.borrowed -= float(repaid)
                position.loan -= repaid
        else:
            position.collateral += amount
        self.account.version += 1

    def _open_quantity(self) -> float:
        return sum(p.quantity for p in self.account.positions.values())

    def _trail(self, high: float, low: float) -> None:
        if not self.protection:
            return
        for name, orders in self.protection.items():
            position = self.account.positions.get(name)
            if position is None:
                continue
            favourable = rules.favourable_extreme(position.side, high, low)
            for order in orders:
                if order.type == "trailing_stop" and order.status == "live":
                    order.trail_level = rules.trailing_stop_level(
                        position.side, order.trail_level, favourable, order.trail
                    )

    # ----- fills ---------------------------------------------------------------------
    def _fee_rate(self, taker: bool) -> float:
        return self.config.venue.taker_fee if taker else self.config.venue.maker_fee

    def _execute(self, order: Order, price: float, at: datetime, epoch: int, *, taker: bool) -> None:
        account = self.account
        quantity = float(order.quantity)
        position = account.positions.get(order.position)
        reason = order.type
        closed = False
        if position is not None and position.side != order.side:
            closing = min(quantity, position.quantity)
            self.executor.close(position, closing, price, at, epoch, self._fee_rate(taker), reason)
            quantity -= closing
            if quantity < _DUST:  # float residue of a quantity that closed the position
                quantity = 0.0
            closed = True
            if order.position not in account.positions:
                self._cancel_protection(order.position, "position closed")
        gone = self._gapped.get(order.position) if order.type == "market" else None
        if gone is not None and gone[0] == -order.side and order.position not in account.positions:
            # The venue liquidated (part of) its position at this open first: the part of the
            # order meant to close what was liquidated finds nothing to close.
            dropped = min(quantity, gone[1])
            self._gapped[order.position] = (gone[0], gone[1] - dropped)
            quantity -= dropped
            if quantity <= EPSILON:
                order.status = "filled" if closed else "cancelled"
                order.note = "its position was liquidated at this open before the order" + (
                    " (in part)" if closed else ""
                )
                return
        if quantity > EPSILON and not self._open(order, quantity, price, at, epoch, taker):
            return
        order.status = "filled"

    def _open(
        self, order: Order, quantity: float, price: float, at: datetime, epoch: int, taker: bool
    ) -> bool:
        account = self.account
        venue = account.venue
        leverage = order.leverage if not math.isnan(order.leverage) else self.config.leverage
        existing = account.positions.get(order.position)
        notional = quantity * price + (existing.quantity * existing.entry_price if existing else 0.0)
        cap = tier_max_leverage(venue, notional)
        if existing is not None:
            leverage = existing.leverage
        problem = ""
        if leverage > cap:
            problem = f"leverage {leverage:g} above the venue's cap {cap:g} for this size"
        else:
            needed = quantity * price / leverage + quantity * price * self._fee_rate(taker)
            available = account.available(price)
            if needed > available + 1e-9:
                problem = (
                    f"insufficient margin: needs {needed:.2f} {account.quote}, {available:.2f} available"
                )
        if problem:
            order.status = "rejected"
            order.note = problem
            self.rejected.append({"time": at, "row": order.row, "reason": problem})
            return False
        self.executor.open(
            order.position,
            order.side,
            quantity,
            price,
            at,
            epoch,
            leverage,
            self._fee_rate(taker),
            order.type,
        )
        return True

    def _close_by(
        self, order: Order, position: Position, price: float, at: datetime, epoch: int, taker: bool
    ) -> None:
        quantity = min(float(order.quantity), position.quantity)
        self.executor.close(position, quantity, price, at, epoch, self._fee_rate(taker), order.type)
        order.status = "filled"
        self._cancel_protection(position.name, "one-cancels-other")

    def _cancel_protection(self, name: str, why: str) -> None:
        for order in self.protection.pop(name, []):
            if order.status == "live":
                order.status = "cancelled"
                order.note = why

    def _liquidate(self, positions: list[Position], price: float, at: datetime, epoch: int) -> bool:
        """Liquidate at ``price``: part of one position (tiered venues), every given position,
        or (Kraken) oldest first until healthy. Returns ``True`` for a partial liquidation.
        """
        account = self.account
        venue = account.venue
        if venue.partial_liquidation and len(venue.tier_floors) > 1:
            for position in positions:
                quantity, tier = self._partial_quantity(position, price)
                if quantity < position.quantity:
                    side = position.side
                    record = self.executor.partial_liquidation(
                        position, quantity, price, at, venue.partial_fee_rate, tier
                    )
                    self._record_liquidation(record, side, partial=True)
                    return True
        for position in positions:
            if position.name not in account.positions:
                continue
            side = position.side
            record = self.executor.close(
                position, position.quantity, price, at, epoch, venue.taker_fee, "liquidation",
                liquidation=True,
            )  # fmt: skip
            self._cancel_protection(position.name, "liquidated")
            self._record_liquidation(record, side, partial=False)
            if venue.liquidate_oldest_first and account.mode == "cross" and account.positions:
                used = sum(
                    rules.kraken_used_margin(p.side, p.quantity, p.entry_price, price, p.leverage)
                    for p in account.positions.values()
                )
                if rules.margin_level(account.equity(price), used) >= venue.liquidation_stop_level:
                    break
        return False

    def _partial_quantity(self, position: Position, price: float) -> tuple[float, int]:
        """Units of ``position`` a tiered venue sells at ``price`` (all when a partial sale cannot help),
        and the tier the rest is in."""
        account = self.account
        venue = account.venue
        value_price = position.entry_price if venue.liquidation_rule == "bybit" else price
        if account.mode == "isolated":
            balance = position.collateral + account.position_value(position, price)
            others = 0.0
        else:
            balance = account.equity(price)
            others = sum(
                account.maintenance_margin(p, price) for p in account.positions.values() if p is not position
            )
        return rules.partial_liquidation_quantity(
            position.quantity, price, value_price, balance, others,
            venue.tier_floors, venue.tier_mmrs, venue.partial_fee_rate, position.risk_tier,  # type: ignore[arg-type]
        )  # fmt: skip

    def _record_liquidation(self, record: dict[str, Any], side: int, *, partial: bool) -> None:
        self.executor.totals.liquidations.append(
            {
                "time": record["time"],
                "price": record["price"],
                "quantity": record["quantity"],
                "side": "sell" if side > 0 else "buy",
                "fee": record["fee"],
                "position": record["position"],
                "partial": partial,
            }
        )


def run_bars(
    engine: Engine,
    times: list[datetime],
    epochs: list[int],
    opens: list[float],
    highs: list[float],
    lows: list[float],
    closes: list[float],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Feed bars to ``engine``; the last bar is taken to last as long as the one before it."""
    count = len(times)
    if count == 0:
        return
    step = epochs[1] - epochs[0] if count > 1 else 3600
    for i in range(count):
        next_epoch = epochs[i + 1] if i + 1 < count else epochs[i] + step
        engine.on_bar(times[i], epochs[i], opens[i], highs[i], lows[i], closes[i], next_epoch)
        if progress is not None and i % 10_000 == 0:
            progress(i)
