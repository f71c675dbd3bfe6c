"""Technical indicators on float64 arrays, thin over TA-Lib.

TA-Lib is the reference implementation traders compare against, so marginbook does not
re-implement any indicator: each function here checks its input, calls TA-Lib and returns
its arrays unchanged (leading values are ``NaN`` until the look-back window is full).
"""

from marginbook.indicators.core import BollingerBands, atr, bollinger, ema, rsi, sma

__all__ = ["BollingerBands", "atr", "bollinger", "ema", "rsi", "sma"]
