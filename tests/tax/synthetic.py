"""Synthetic ledgers of buys, sells and transfers, shared by the RP2 differential test and
the benchmark (``benchmarks/tax_vs_rp2.py``).

Event days are drawn from 60-day windows that start every 250 days, so no acquisition and
disposal are between 190 and 440 days apart unless they are in neighbouring windows — and
then never 363-368 days apart. That keeps every holding away from the one-year boundary,
where RP2 is wrong by the rules: it counts any holding of 365 days or more as long-term
(``days >= 365``), but a holding of exactly one year (365 days, or 366 across February 29)
is short-term (rules spec 1.4: more than one year, from the day after acquisition).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from marginbook.domain.events import EventKind, LedgerEvent

WINDOW_DAYS = 60
WINDOW_PERIOD = 250
ORIGIN = datetime(2021, 1, 4, tzinfo=UTC)


def synthetic_ledger(
    count: int, seed: int, *, wallets: int = 3, assets: tuple[str, ...] = ("BTC", "ETH"), windows: int = 5
) -> list[LedgerEvent]:
    """``count`` events (about half buys, 40 % sells, 10 % transfers) in ledger order.

    Buys pay a USD fee of 0.1 % (so HIFO's order by price equals its order by unit cost,
    as RP2 sorts by spot price); sells never exceed what the wallet holds; every buy has
    its own price, so no two lots tie.
    """
    rng = random.Random(seed)
    slots = sorted(rng.randrange(windows * WINDOW_DAYS * 86_400) for _ in range(count))
    names = [f"wallet{n}" for n in range(wallets)]
    held: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    price = {asset: Decimal(30_000 if asset == "BTC" else 2_000) for asset in assets}
    events: list[LedgerEvent] = []
    last: datetime | None = None
    for n, slot in enumerate(slots):
        window, offset = divmod(slot, WINDOW_DAYS * 86_400)
        moment = ORIGIN + timedelta(days=window * WINDOW_PERIOD, seconds=offset)
        if last is not None and moment <= last:
            moment = last + timedelta(seconds=1)
        last = moment
        asset = rng.choice(assets)
        wallet = rng.choice(names)
        price[asset] = max(
            Decimal(100), price[asset] + Decimal(rng.randrange(-500, 501)) + Decimal(n % 97) / 100
        )
        roll = rng.random()
        common = {"id": f"e{n}", "timestamp": moment, "wallet": wallet, "asset": asset}
        units = Decimal(rng.randrange(1, 200_000_000)) / Decimal(10**8)
        if roll < 0.5 or held[(wallet, asset)] <= 0:
            cost = (units * price[asset]).quantize(Decimal("0.01"))
            if cost <= 0:
                continue
            fee = (cost / 1000).quantize(Decimal("0.01"))
            events.append(
                LedgerEvent(
                    kind=EventKind.BUY,
                    amount=units,
                    counter_asset="USD",
                    counter_amount=cost,
                    fee_asset="USD" if fee else None,
                    fee_amount=fee or None,
                    **common,
                )
            )
            held[(wallet, asset)] += units
            continue
        units = min(units, held[(wallet, asset)])
        if roll < 0.9:
            proceeds = (units * price[asset]).quantize(Decimal("0.01"))
            if proceeds <= 0:
                continue
            events.append(
                LedgerEvent(
                    kind=EventKind.SELL, amount=units, counter_asset="USD", counter_amount=proceeds, **common
                )
            )
            held[(wallet, asset)] -= units
        else:
            target = rng.choice([name for name in names if name != wallet])
            events.append(LedgerEvent(kind=EventKind.TRANSFER, amount=units, to_wallet=target, **common))
            held[(wallet, asset)] -= units
            held[(target, asset)] += units
    return events
