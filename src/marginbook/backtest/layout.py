"""The numeric layout shared by the kernel and its Python adapter.

The kernel takes only arrays and scalars (``docs/backtest.md``, "Kernel boundary"). Its
settings travel as one float64 vector indexed by the ``CFG_*`` constants; the trades it
records as rows of a float64 matrix indexed by the ``TR_*`` constants; margin calls as rows
indexed by ``MC_*``. Prices and amounts are in the quote asset (USDT for the bundled data);
quantities in base units; times in integer seconds since the epoch, UTC.
"""

from __future__ import annotations

# Margin models: which venue rule prices liquidation and margin calls.
MODEL_MARGIN_RATIO = 0  # Binance USDⓈ-M and generic futures: tiered maintenance margin ratio
MODEL_BYBIT = 1         # Bybit linear: maintenance fixed at entry value
MODEL_OKX = 2           # OKX / Gate isolated: taker fee reserved out of the margin
MODEL_SPOT_MARGIN = 3   # Binance spot margin: margin level = assets / (liabilities + interest)
MODEL_KRAKEN = 4        # Kraken spot margin: margin level = equity / used margin

# Settings vector.
CFG_MODEL = 0
CFG_LEVERAGE = 1
CFG_CROSS = 2
CFG_CASH = 3
CFG_SIZE_UNITS = 4
CFG_SIZE_FRACTION = 5
CFG_FEE = 6
CFG_STOP_LOSS = 7
CFG_TAKE_PROFIT = 8
CFG_TRAILING_STOP = 9
CFG_INTEREST_PER_CHARGE = 10
CFG_CHARGE_PERIOD = 11
CFG_CLOCK_ALIGNED = 12
CFG_CHARGE_AT_OPEN = 13
CFG_OPENING_RATE = 14
CFG_FUNDING_RATE = 15
CFG_FUNDING_PERIOD = 16
CFG_LIQUIDATION_FEE = 17
CFG_CALL_LEVEL = 18
CFG_LIQUIDATION_LEVEL = 19
CFG_TAKER_FEE = 20          # the closing fee OKX reserves in its liquidation price
CFG_MAKER_FEE = 21          # fee rate of take-profit fills (limit orders)
CFG_LIQUIDATION_FEE_REMAINING = 22  # 1: a liquidation takes the position's remaining margin
CFG_SHORT_INTEREST_PER_CHARGE = 23  # a short's rate per charge on the base units lent
CFG_SHORT_OPENING_RATE = 24
CFG_QUOTE_INTEREST = 25             # 1: interest on quote amounts lent, paid per charge (Kraken)
CFG_MAX_LEVERAGE = 26               # the venue's leverage cap (each tier's cap is below it)
CFG_PARTIAL_LIQUIDATION = 27        # 1: a position above the lowest tier is first reduced (Bybit, Binance)
CFG_PARTIAL_FEE = 28                # fee rate of the part a partial liquidation sells
CFG_SIZE = 29

# Trade record columns.
TR_SIDE = 0
TR_ENTRY_BAR = 1
TR_EXIT_BAR = 2
TR_QUANTITY = 3
TR_ENTRY_PRICE = 4
TR_EXIT_PRICE = 5
TR_ENTRY_FEE = 6
TR_EXIT_FEE = 7
TR_INTEREST = 8          # interest paid, in quote (a short's base interest valued at the exit price)
TR_FUNDING = 9           # funding received (+) or paid (−), quote
TR_PNL = 10              # net: price P&L − fees − interest + funding
TR_REASON = 11
TR_LIQUIDATION_PRICE = 12  # at entry
TR_MARGIN = 13           # initial margin (collateral) at entry
TR_BORROWED = 14         # quote borrowed by a long, base units borrowed by a short
TR_INTEREST_UNITS = 15   # interest in the borrowed asset (quote for a long, base for a short)
TR_CHARGES = 16          # number of interest charges
TR_CONTINUES = 17        # 1: the rest of the previous row's position after a partial liquidation
TR_SIZE = 18

# Exit reasons.
EXIT_SIGNAL = 0
EXIT_STOP = 1
EXIT_TAKE_PROFIT = 2
EXIT_TRAILING_STOP = 3
EXIT_LIQUIDATION = 4
EXIT_OPEN = 5  # still open after the last bar (marked to the last close, not closed)

EXIT_NAMES = ("signal", "stop_loss", "take_profit", "trailing_stop", "liquidation", "open")

# Margin call record columns: a call each time the adverse extreme crosses into the call level.
MC_BAR = 0
MC_PRICE = 1    # the call price, or the open when the bar opened beyond it
MC_TRADE = 2    # index of the trade the call belongs to
MC_SIDE = 3
MC_QUANTITY = 4  # the position's size when called
MC_SIZE = 5

# Totals vector returned by the kernel.
TOT_TRADES = 0
TOT_CALLS = 1
TOT_FINAL_EQUITY = 2
TOT_FEES = 3
TOT_INTEREST = 4
TOT_FUNDING = 5
TOT_LIQUIDATIONS = 6
TOT_SKIPPED_ENTRIES = 7  # entries refused: margin and fee unaffordable, or leverage above the tier's cap
TOT_CALLS_SEEN = 8       # margin calls that happened (more than were recorded when the matrix was full)
TOT_SIZE = 9
