"""Properties of the Binance statement's trade grouping: where Binance puts the second boundary
inside a trade must not change the trade that is booked."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marginbook.importers import binance

HEADER = "User_ID,UTC_Time,Account,Operation,Coin,Change,Remark\n"
AMOUNTS = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("100000"), places=8)


def _read(rows: list[tuple[int, str, str, Decimal]]) -> list[tuple[object, ...]]:
    lines = [f"1,2024-04-01 09:12:{second:02d},Spot,{operation},{coin},{change},\n"
             for second, operation, coin, change in rows]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.csv"
        path.write_text(HEADER + "".join(lines), encoding="utf-8")
        return [(e.kind, e.asset, e.amount, e.counter_asset, e.counter_amount, e.fee_asset, e.fee_amount)
                for e in binance.read(path)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spent=AMOUNTS, bought=AMOUNTS, fee=AMOUNTS, spend_late=st.booleans(), fee_late=st.booleans())
def test_a_trade_split_over_two_seconds_books_as_in_one(
    spent: Decimal, bought: Decimal, fee: Decimal, spend_late: bool, fee_late: bool
) -> None:
    legs = [("Transaction Spend", "USDT", -spent), ("Transaction Buy", "ETH", bought),
            ("Transaction Fee", "ETH", -fee)]
    together = _read([(45, operation, coin, change) for operation, coin, change in legs])
    # The spend on one side of the boundary and the buy on the other; the fee on either side.
    seconds = {"Transaction Spend": 46 if spend_late else 45, "Transaction Buy": 45 if spend_late else 46,
               "Transaction Fee": 46 if fee_late else 45}
    split = _read([(seconds[operation], operation, coin, change) for operation, coin, change in legs])
    assert split == together
    assert together == [(together[0][0], "ETH", bought, "USDT", spent, "ETH", fee)]
