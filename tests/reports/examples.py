"""Hand-made tax documents (the JSON of ``marginbook tax``) built from the rules spec's worked examples.

Every figure is computed by hand from spec/us-tax-rules.md section 8, so that these
documents and the tax engine's output for the same ledgers agree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marginbook.tax.profile import Profile, YearSettings


def _line(proceeds: str, cost: str, gain: str, adjustment: str = "0.00") -> dict[str, str]:
    return {"proceeds": proceeds, "cost_basis": cost, "adjustment": adjustment, "gain": gain}


def _zero_line() -> dict[str, str]:
    return _line("0.00", "0.00", "0.00")


def example_2_fifo() -> dict[str, Any]:
    """Ex 2, FIFO: sell 2.5 ETH on 2025-08-01 for $7,500 net from a self-custody wallet (box L).

    L1 2.0 ETH (2024-01-10, $4,000) -> 6,000 / 4,000 / +2,000 LT; L2 0.5 ETH of 1.0 (2024-06-15,
    $3,500) -> 1,500 / 1,750 / (250) LT. One disposal, one term: one row, acquired VARIOUS.
    """
    return {
        "year": 2025,
        "method": "fifo",
        "scope": "transition",
        "form_8949": [
            {
                "box": "L",
                "term": "long",
                "description": "2.5 ETH",
                "asset": "ETH",
                "wallet": "ledger",
                "quantity": "2.5",
                "date_acquired": "VARIOUS",
                "date_sold": "2025-08-01",
                "proceeds": "7500.00",
                "cost_basis": "5750.00",
                "adjustment_code": "",
                "adjustment": "0.00",
                "gain": "1750.00",
                "disposal_id": "ev-sell-2025-08-01",
                "lots": [
                    {
                        "acquisition_id": "ev-L1",
                        "quantity": "2.0",
                        "cost_basis": "4000.00",
                        "acquired_at": "2024-01-10T00:00:00Z",
                    },
                    {
                        "acquisition_id": "ev-L2",
                        "quantity": "0.5",
                        "cost_basis": "1750.00",
                        "acquired_at": "2024-06-15T00:00:00Z",
                    },
                ],
            }
        ],
        "schedule_d": {
            "line_1b": _zero_line(),
            "line_2": _zero_line(),
            "line_3": _zero_line(),
            "line_8b": _zero_line(),
            "line_9": _zero_line(),
            "line_10": _line("7500.00", "5750.00", "1750.00"),
            "line_6": "0.00",
            "line_7": "0.00",
            "line_14": "0.00",
            "line_15": "1750.00",
            "line_16": "1750.00",
            "line_21": "0.00",
            "carryover_to_next_year": {"short_term": "0.00", "long_term": "0.00"},
        },
        "form_4952": None,
        "income": [],
        "gifts_and_donations": [],
        "warnings": [],
    }


def example_8_fees() -> dict[str, Any]:
    """Ex 8, fees, on a custodial exchange issuing a gross-proceeds 1099-DA (box H), all short-term.

    Buy 1 ETH 2025-02-03 for $2,985 + $15 fee (basis $3,000). Sell 0.5 ETH 2025-09-01 for $2,000 less
    $10: 1,990 / 1,500 / +490. Swap 0.25 ETH 2025-10-01 for BTC worth $1,000, $10 withheld as 0.0025 ETH:
    990 / 750 / +240, and the fee units 10.00 / 7.50 / +2.50. Short-term total $732.50.
    """

    def row(
        description: str, quantity: str, sold: str, proceeds: str, basis: str, gain: str, disposal: str
    ) -> dict[str, Any]:
        return {
            "box": "H",
            "term": "short",
            "description": description,
            "asset": "ETH",
            "wallet": "coinbase",
            "quantity": quantity,
            "date_acquired": "2025-02-03",
            "date_sold": sold,
            "proceeds": proceeds,
            "cost_basis": basis,
            "adjustment_code": "",
            "adjustment": "0.00",
            "gain": gain,
            "disposal_id": disposal,
            "lots": [
                {
                    "acquisition_id": "ev-buy-2025-02-03",
                    "quantity": quantity,
                    "cost_basis": basis,
                    "acquired_at": "2025-02-03T15:00:00Z",
                }
            ],
        }

    return {
        "year": 2025,
        "method": "fifo",
        "scope": "transition",
        "form_8949": [
            row("0.5 ETH", "0.5", "2025-09-01", "1990.00", "1500.00", "490.00", "ev-sell-2025-09-01"),
            row("0.25 ETH", "0.25", "2025-10-01", "990.00", "750.00", "240.00", "ev-swap-2025-10-01"),
            row("0.0025 ETH", "0.0025", "2025-10-01", "10.00", "7.50", "2.50", "ev-swap-2025-10-01-fee"),
        ],
        "schedule_d": {
            "line_1b": _zero_line(),
            "line_2": _line("2990.00", "2257.50", "732.50"),
            "line_3": _zero_line(),
            "line_8b": _zero_line(),
            "line_9": _zero_line(),
            "line_10": _zero_line(),
            "line_6": "0.00",
            "line_7": "732.50",
            "line_14": "0.00",
            "line_15": "0.00",
            "line_16": "732.50",
            "line_21": "0.00",
            "carryover_to_next_year": {"short_term": "0.00", "long_term": "0.00"},
        },
        "form_4952": None,
        "income": [],
        "gifts_and_donations": [],
        "warnings": [],
    }


def example_6_interest() -> dict[str, Any]:
    """Ex 6, 2025: $4,000 margin interest, $3,000 net short-term crypto gain (box I), no LT.

    Form 4952: 1 = 4,000; 3 = 4,000; 4d = 3,000; 4f = 3,000; 4h = 3,000; 6 = 3,000; 8 = 3,000; 7 = 1,000.
    """
    return {
        "year": 2025,
        "method": "fifo",
        "scope": "transition",
        "form_8949": [
            {
                "box": "I",
                "term": "short",
                "description": "0.1 BTC",
                "asset": "BTC",
                "wallet": "ledger",
                "quantity": "0.1",
                "date_acquired": "2025-01-15",
                "date_sold": "2025-06-30",
                "proceeds": "10000.00",
                "cost_basis": "7000.00",
                "adjustment_code": "",
                "adjustment": "0.00",
                "gain": "3000.00",
                "disposal_id": "ev-sell-btc",
                "lots": [
                    {
                        "acquisition_id": "ev-buy-btc",
                        "quantity": "0.1",
                        "cost_basis": "7000.00",
                        "acquired_at": "2025-01-15T10:00:00Z",
                    }
                ],
            }
        ],
        "schedule_d": {
            "line_1b": _zero_line(),
            "line_2": _zero_line(),
            "line_3": _line("10000.00", "7000.00", "3000.00"),
            "line_8b": _zero_line(),
            "line_9": _zero_line(),
            "line_10": _zero_line(),
            "line_6": "0.00",
            "line_7": "3000.00",
            "line_14": "0.00",
            "line_15": "0.00",
            "line_16": "3000.00",
            "line_21": "0.00",
            "carryover_to_next_year": {"short_term": "0.00", "long_term": "0.00"},
        },
        "form_4952": {
            "line_1": "4000.00",
            "line_2": "0.00",
            "line_3": "4000.00",
            "line_4a": "0.00",
            "line_4b": "0.00",
            "line_4c": "0.00",
            "line_4d": "3000.00",
            "line_4e": "0.00",
            "line_4f": "3000.00",
            "line_4g": "0.00",
            "line_4h": "3000.00",
            "line_5": "0.00",
            "line_6": "3000.00",
            "line_7": "1000.00",
            "line_8": "3000.00",
        },
        "income": [],
        "gifts_and_donations": [],
        "warnings": [],
    }


def loss_year_2024(rows: int = 16) -> dict[str, Any]:
    """A 2024 year (boxes C/F) with a short-term loss of $8,000 over ``rows`` rows and a $1,000 LT gain.

    Schedule D: 7 = (8,000), 15 = 1,000, 16 = (7,000), 21 = (3,000). Worksheet with taxable income
    $50,000: 2 = 3,000, 3 = 53,000, 4 = 3,000, 5 = 8,000, 6 = 1,000, 7 = 4,000, ST carryover 4,000.
    Each short-term row loses a share of $8,000 (rows of -266.67 and a last row taking the rest).
    """
    loss_per_row = "-266.67"
    short_rows = []
    total_loss_cents = -800000
    for index in range(rows):
        last = index == rows - 1
        gain_cents = total_loss_cents - (-26667 * (rows - 1)) if last else -26667
        gain = f"-{-gain_cents // 100}.{-gain_cents % 100:02d}" if last else loss_per_row
        proceeds_cents = 100000 + index
        basis_cents = proceeds_cents - gain_cents
        short_rows.append(
            {
                "box": "C",
                "term": "short",
                "description": f"0.0{index % 9 + 1} BTC",
                "asset": "BTC",
                "wallet": "ledger",
                "quantity": f"0.0{index % 9 + 1}",
                "date_acquired": "2024-01-05",
                "date_sold": f"2024-{index % 12 + 1:02d}-15",
                "proceeds": f"{proceeds_cents // 100}.{proceeds_cents % 100:02d}",
                "cost_basis": f"{basis_cents // 100}.{basis_cents % 100:02d}",
                "adjustment_code": "",
                "adjustment": "0.00",
                "gain": gain,
                "disposal_id": f"ev-st-{index}",
                "lots": [
                    {
                        "acquisition_id": "ev-buy-2024-01-05",
                        "quantity": f"0.0{index % 9 + 1}",
                        "cost_basis": f"{basis_cents // 100}.{basis_cents % 100:02d}",
                        "acquired_at": "2024-01-05T00:00:00Z",
                    }
                ],
            }
        )
    long_row = {
        "box": "F",
        "term": "long",
        "description": "1 ETH",
        "asset": "ETH",
        "wallet": "ledger",
        "quantity": "1",
        "date_acquired": "2022-03-01",
        "date_sold": "2024-05-01",
        "proceeds": "3000.00",
        "cost_basis": "2000.00",
        "adjustment_code": "",
        "adjustment": "0.00",
        "gain": "1000.00",
        "disposal_id": "ev-lt",
        "lots": [
            {
                "acquisition_id": "ev-buy-2022",
                "quantity": "1",
                "cost_basis": "2000.00",
                "acquired_at": "2022-03-01T00:00:00Z",
            }
        ],
    }
    proceeds_total = sum(100000 + i for i in range(rows))
    basis_total = proceeds_total + 800000

    def money(value: int) -> str:
        return f"{value // 100}.{value % 100:02d}"

    return {
        "year": 2024,
        "method": "fifo",
        "scope": "transition",
        "form_8949": [*short_rows, long_row],
        "schedule_d": {
            "line_1b": _zero_line(),
            "line_2": _zero_line(),
            "line_3": _line(money(proceeds_total), money(basis_total), "-8000.00"),
            "line_8b": _zero_line(),
            "line_9": _zero_line(),
            "line_10": _line("3000.00", "2000.00", "1000.00"),
            "line_6": "0.00",
            "line_7": "-8000.00",
            "line_14": "0.00",
            "line_15": "1000.00",
            "line_16": "-7000.00",
            "line_21": "-3000.00",
            "carryover_to_next_year": {"short_term": "4000.00", "long_term": "0.00"},
        },
        "form_4952": None,
        "income": [],
        "gifts_and_donations": [],
        "warnings": ["an example warning from the engine"],
    }


#: The tax engine's profile, as ``[taxpayer] name``/``tin`` and ``[year.2024] taxable_income`` give it.
PROFILE = Profile(
    name="Jane Q. Trader",
    tin="123-45-6789",
    years={2024: YearSettings(taxable_income=Decimal("50000"))},
)


def example_2_hifo() -> dict[str, Any]:
    """Ex 2 with HIFO (standing order): one disposal split into a long-term and a short-term row.

    L2 1.0 ETH 3,000 / 3,500 / (500) LT and L1 0.5 ETH 1,500 / 1,000 / +500 LT make one LT row
    (VARIOUS, 4,500 / 4,500 / 0); L3 1.0 ETH (2025-02-01) 3,000 / 2,800 / +200 is the ST row.
    Totals: ST +200, LT 0, as in the spec.
    """
    document = example_2_fifo()
    document["method"] = "hifo"
    document["form_8949"] = [
        {
            "box": "I",
            "term": "short",
            "description": "1 ETH",
            "asset": "ETH",
            "wallet": "ledger",
            "quantity": "1.0",
            "date_acquired": "2025-02-01",
            "date_sold": "2025-08-01",
            "proceeds": "3000.00",
            "cost_basis": "2800.00",
            "adjustment_code": "",
            "adjustment": "0.00",
            "gain": "200.00",
            "disposal_id": "ev-sell-2025-08-01",
            "lots": [
                {
                    "acquisition_id": "ev-L3",
                    "quantity": "1.0",
                    "cost_basis": "2800.00",
                    "acquired_at": "2025-02-01T00:00:00Z",
                }
            ],
        },
        {
            "box": "L",
            "term": "long",
            "description": "1.5 ETH",
            "asset": "ETH",
            "wallet": "ledger",
            "quantity": "1.5",
            "date_acquired": "VARIOUS",
            "date_sold": "2025-08-01",
            "proceeds": "4500.00",
            "cost_basis": "4500.00",
            "adjustment_code": "",
            "adjustment": "0.00",
            "gain": "0.00",
            "disposal_id": "ev-sell-2025-08-01",
            "lots": [
                {
                    "acquisition_id": "ev-L2",
                    "quantity": "1.0",
                    "cost_basis": "3500.00",
                    "acquired_at": "2024-06-15T00:00:00Z",
                },
                {
                    "acquisition_id": "ev-L1",
                    "quantity": "0.5",
                    "cost_basis": "1000.00",
                    "acquired_at": "2024-01-10T00:00:00Z",
                },
            ],
        },
    ]
    schedule = document["schedule_d"]
    schedule["line_3"] = _line("3000.00", "2800.00", "200.00")
    schedule["line_10"] = _line("4500.00", "4500.00", "0.00")
    schedule.update({"line_7": "200.00", "line_15": "0.00", "line_16": "200.00"})
    return document
