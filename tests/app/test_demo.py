"""The demo imports its bundled ledger and shows the holdings worked out by hand below."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from marginbook.app.demo import DEMO_DB_NAME, demo_ledger_path, run_demo
from marginbook.importers import ledger_csv

# Worked by hand from data/demo/demo-ledger.csv (amounts before fees; fees debited apart):
# coinbase USD 20000 − 11625 − 69.75 − 6200 − 37.20 + 5000 − 4300 − 25.80 + 5640 − 33.84
#              − 1850 − 11.10 = 6487.31
# coinbase BTC 0.25 − 0.2 − 0.00012 (network fee) + 0.05 − 0.06 = 0.03988
# coinbase ETH 2.5 + 0.0123 + 0.0131 + 0.0128 + 0.0125 − 1.0 − 0.00042 + 0.5 = 2.05028
# kraken USD 15000 − 7560 − 19.66 − 5940 − 15.44 + 10000 (loan) − 9720 − 25.27 − 2 − 2
#            + 8847 − 22.12 (liquidation) − 10000 (repaid) + 3100 − 8.06 − 2000 = 1632.45
# kraken BTC 0.12 + 0.18 − 0.18 = 0.12;  kraken ETH 1.8 − 1.0 + 0.004 = 0.804
EXPECTED = {
    ("coinbase", "BTC"): Decimal("0.03988"),
    ("coinbase", "ETH"): Decimal("2.05028"),
    ("coinbase", "USD"): Decimal("6487.31"),
    ("kraken", "BTC"): Decimal("0.12"),
    ("kraken", "ETH"): Decimal("0.804"),
    ("kraken", "USD"): Decimal("1632.45"),
    ("ledger-nano", "BTC"): Decimal("0.2"),
    ("ledger-nano", "ETH"): Decimal("1"),
}


def test_demo_holdings_match_the_hand_computation(tmp_path: Path) -> None:
    result = run_demo(tmp_path)
    assert {(h.wallet, h.asset): h.balance for h in result.holdings} == EXPECTED
    assert all(h.borrowed == 0 for h in result.holdings)  # the Kraken loan was repaid
    assert result.db_path == tmp_path / DEMO_DB_NAME
    assert (result.event_count, result.summary.added) == (25, 25)


def test_running_the_demo_again_in_the_same_place_adds_nothing(tmp_path: Path) -> None:
    run_demo(tmp_path)
    again = run_demo(tmp_path)
    assert (again.summary.added, again.summary.unchanged, again.event_count) == (0, 25, 25)


def test_the_bundled_ledger_tells_the_promised_story() -> None:
    events = ledger_csv.read(demo_ledger_path())
    kinds = {e.kind.value for e in events}
    assert {"buy", "sell", "transfer", "borrow", "interest", "liquidation", "repay", "income"} <= kinds
    assert {e.wallet for e in events} == {"coinbase", "kraken"}
    assert {e.timestamp.year for e in events} == {2024, 2025}
