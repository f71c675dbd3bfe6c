"""A backtest exports to the ledger CSV in exact decimals that reconcile and read back unchanged."""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import numpy as np

from marginbook.app.backtest import export_ledger, run_file
from marginbook.backtest.ledger_export import ledger_events
from marginbook.backtest.settings import BacktestSettings
from marginbook.domain.events import EventKind
from marginbook.importers import ledger_csv
from tests.backtest.helpers import run

FIXTURE = Path(__file__).parent / "fixtures" / "BTC-USDT_1d_2021-10_2022-07.csv"


def _base_flows(events: list) -> dict[str, Decimal]:  # type: ignore[type-arg]
    """Net BTC bought minus sold (and borrowed minus repaid) per position."""
    held: dict[str, Decimal] = defaultdict(Decimal)
    for event in events:
        if event.asset != "BTC":
            continue
        sign = {EventKind.BUY: 1, EventKind.BORROW: 1, EventKind.SELL: -1, EventKind.LIQUIDATION: -1,
                EventKind.REPAY: -1, EventKind.INTEREST: -1}[event.kind]
        held[event.position] += sign * event.amount
    return held


def test_spot_margin_run_reconciles_to_the_satoshi() -> None:
    result = run_file(FIXTURE, "sma-cross", {"fast": 5, "slow": 20},
                      BacktestSettings(venue="binance-margin", leverage=3, cash=10_000.0, size_fraction=0.5))
    events = ledger_events(result, base="BTC", quote="USDT", run_id="t", settlement="spot")
    closed = {f"t-{i + 1}" for i, trade in enumerate(result.trades) if not trade.is_open}
    flows = _base_flows(events)
    # Every closed position's coins came and went exactly: bought = sold, borrowed = repaid + interest.
    assert all(flows[name] == 0 for name in closed)
    assert any(t.side == "short" for t in result.trades) and any(t.side == "long" for t in result.trades)
    interest = [e for e in events if e.kind is EventKind.INTEREST]
    assert interest and all(e.amount > 0 for e in interest)


def test_spot_long_events_follow_the_ledger_format() -> None:
    bars = [(100.0,) * 4, (100.0,) * 4, (110.0,) * 4, (110.0,) * 4]
    result = run(bars, [1, 0, 0, 0], exit_long=[False, True, False, False], venue="binance-margin", leverage=2,
                 cash=1_000.0, size_units=1.0, fee=0.001, interest_rate=0.0001, rate_period="hour")
    events = ledger_events(result, base="BTC", quote="USDT", run_id="r", settlement="spot")
    assert [e.kind for e in events] == [EventKind.BORROW, EventKind.BUY, EventKind.INTEREST, EventKind.SELL,
                                        EventKind.REPAY]
    borrow, buy, interest, sell, repay = events
    assert (borrow.asset, borrow.amount) == ("USDT", Decimal("50"))
    assert (buy.amount, buy.counter_amount, buy.fee_amount) == (Decimal("1"), Decimal("100"), Decimal("0.1"))
    assert (sell.counter_amount, sell.fee_amount) == (Decimal("110"), Decimal("0.11"))
    # Held from 01:00 to 02:00: one hour, charged at borrowing, on 50 USDT at 0.01 %.
    assert interest.amount == Decimal("0.005")
    assert repay.amount == borrow.amount
    assert {e.position for e in events} == {"r-1"} and all(e.origin.source == "sim:r" for e in events)


def test_futures_run_settles_realized_pnl_and_liquidations() -> None:
    result = run_file(FIXTURE, "sma-cross", {"fast": 5, "slow": 20, "short": 0},
                      BacktestSettings(venue="binance-usdm", leverage=20, cash=10_000.0))
    assert result.liquidations
    events = ledger_events(result, base="BTC", quote="USDT", run_id="f", settlement="pnl")
    kinds = {e.kind for e in events}
    assert kinds <= {EventKind.REALIZED_PNL, EventKind.INTEREST, EventKind.FUNDING}
    closed = [t for t in result.trades if not t.is_open]
    pnl = sum((e.amount for e in events if e.kind is EventKind.REALIZED_PNL), Decimal(0))
    expected = sum(t.pnl for t in closed)
    assert abs(float(pnl) - expected) < 1e-6 * len(closed) + 1e-6
    assert all(e.opened_at is not None for e in events if e.kind is EventKind.REALIZED_PNL)


def test_exported_file_reads_back_as_the_same_events(tmp_path: Path) -> None:
    result = run_file(FIXTURE, "rsi", {"short": 1}, BacktestSettings(venue="binance-margin", leverage=2))
    path = tmp_path / "run.csv"
    count = export_ledger(result, path, base="BTC", quote="USDT", run_id="rt")
    events = ledger_csv.read(path)
    assert len(events) == count > 0
    again = io.StringIO()
    ledger_csv.write(events, again)
    assert again.getvalue().replace("\r\n", "\n") == path.read_text(encoding="utf-8").replace("\r\n", "\n")
    assert not list(tmp_path.glob(".*.tmp"))


def test_amounts_are_exact_eight_place_decimals() -> None:
    result = run_file(FIXTURE, "bollinger", {}, BacktestSettings(venue="binance-margin", leverage=2))
    for event in ledger_events(result, base="BTC", quote="USDT", run_id="d", settlement="spot"):
        for value in (event.amount, event.counter_amount, event.fee_amount):
            assert value is None or (isinstance(value, Decimal) and -value.as_tuple().exponent <= 8)
    assert np.isfinite(result.equity).all()


def test_exported_run_imports_into_the_ledger_once(tmp_path: Path) -> None:
    from marginbook.app.ledger_io import import_files
    from marginbook.ledger import open_store

    result = run_file(FIXTURE, "sma-cross", {"fast": 5, "slow": 20},
                      BacktestSettings(venue="binance-margin", leverage=3, size_fraction=0.5))
    path = tmp_path / "run.csv"
    count = export_ledger(result, path, base="BTC", quote="USDT")
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        first = import_files(store, [path])
        again = import_files(store, [path])
        assert store.count() == count
    assert first.files[0].added == count and again.files[0].added == 0
