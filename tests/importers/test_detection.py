"""Detection by header: every fixture is recognised as its own venue's format and no other."""

from __future__ import annotations

from pathlib import Path

import pytest

from marginbook.domain.errors import InputError
from marginbook.importers import registry
from tests.importers._expect import FIXTURES

VENUES = ("coinbase", "kraken", "binance", "gemini", "bybit")
FIXTURE_FILES = sorted(path for venue in VENUES for path in (FIXTURES / venue).glob("*.csv"))


def test_every_venue_has_fixtures() -> None:
    assert {path.parent.name for path in FIXTURE_FILES} == set(VENUES)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_is_detected_as_its_venue_only(path: Path) -> None:
    header = registry.read_header(path)
    matching = [venue for venue in VENUES if registry.format_module(venue).matches(header)]
    assert matching == [path.parent.name]
    assert registry.detect_format(path) == path.parent.name


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_read_events_through_the_registry_equals_the_module_read(path: Path) -> None:
    module = registry.format_module(path.parent.name)
    assert registry.read_events(path) == module.read(path, wallet=None)


def test_ledger_csv_header_is_not_taken_by_a_venue() -> None:
    header = ["timestamp", "type", "wallet", "asset", "amount", "counter_asset", "counter_amount", "id"]
    assert not any(registry.format_module(venue).matches(header) for venue in VENUES)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_import_is_idempotent_with_unique_ids_and_traceable_origins(path: Path) -> None:
    module = registry.format_module(path.parent.name)
    first, second = module.read(path, wallet=None), module.read(path, wallet=None)
    assert first and [e.id for e in first] == [e.id for e in second] and first == second
    assert len({e.id for e in first}) == len(first)
    assert all(e.origin.source == str(path) and (e.origin.row or 0) >= 2 for e in first)
    assert {e.wallet for e in first} == {path.parent.name}
    assert {e.wallet for e in module.read(path, wallet="sub-1")} == {"sub-1"}


RENAMED = {
    "coinbase/transactions.csv": "Subtotal",
    "kraken/ledgers.csv": "balance",
    "kraken/trades.csv": "vol",
    "binance/trade_history.csv": "Executed",
    "binance/trade_history_legacy.csv": "Fee Coin",
    "binance/statement.csv": "Change",
    "binance/futures_transactions.csv": "Asset",
    "binance/futures_history.csv": "Transaction ID",
    "binance/binance_us_history.csv": "Quote Asset",
    "gemini/transaction_history.csv": "Specification",
    "bybit/closed_pnl.csv": "Closed P&L",
    "bybit/transaction_log.csv": "Cash Flow",
    "bybit/classic_log.csv": "Fee Rate",
    "bybit/spot_orders.csv": "Filled Value",
    "bybit/spot_statement.csv": "Fees",
}


def test_every_fixture_has_a_renamed_column_case() -> None:
    assert sorted(RENAMED) == sorted(f"{p.parent.name}/{p.name}" for p in FIXTURE_FILES)


@pytest.mark.parametrize(("name", "column"), sorted(RENAMED.items()))
def test_a_renamed_column_is_named_with_the_expected_layout(tmp_path: Path, name: str, column: str) -> None:
    source = FIXTURES / name
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    # The header line: the first whose cells include the column.
    cells = [[cell.strip('"') for cell in line.rstrip().split(",")] for line in lines]
    index = next(i for i, row in enumerate(cells) if column in row)
    lines[index] = lines[index].replace(column, f"{column} (new)", 1)
    changed = tmp_path / source.name
    changed.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        registry.format_module(source.parent.name).read(changed, wallet=None)
    message = str(caught.value)
    assert f"missing column(s) {column}" in message
    assert "expected columns: " in message and column in message.split("expected columns: ", 1)[1]
