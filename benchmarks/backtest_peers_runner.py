"""Run one peer backtester on the benchmark workload; print one JSON line.

Runs in the peers' own virtualenv (backtesting==0.6.6, vectorbt==1.2.0, which pin other
numpy/numba versions than marginbook), started by ``backtest_vs_peers.py`` as
``$MARGINBOOK_BENCH_PYTHON backtest_peers_runner.py PEER BARS.npz PARAMS_JSON``. Does not
import marginbook.

Workload: SMA(fast)/SMA(slow) cross, long and short (reversing), fixed size in units,
stop-loss and take-profit as fractions of the signal bar's close, fee per fill; orders
decided at a bar's close fill at the next bar's open.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np
import pandas as pd


def _frame(data: dict[str, np.ndarray]) -> pd.DataFrame:
    index = pd.to_datetime(data["timestamps"], unit="s")
    return pd.DataFrame({"Open": data["open"], "High": data["high"], "Low": data["low"],
                         "Close": data["close"], "Volume": np.zeros(len(index))}, index=index)


def run_backtesting_py(data: dict[str, np.ndarray], p: dict[str, float]) -> dict[str, float]:
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover
    from backtesting.test import SMA

    fast, slow, size = int(p["fast"]), int(p["slow"]), p["size"]
    stop, take = p["stop_loss"], p["take_profit"]

    class SmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(SMA, self.data.Close, fast)
            self.slow = self.I(SMA, self.data.Close, slow)

        def next(self) -> None:
            close = self.data.Close[-1]
            if crossover(self.fast, self.slow):
                self.position.close()
                self.buy(size=size, sl=close * (1 - stop), tp=close * (1 + take))
            elif crossover(self.slow, self.fast):
                self.position.close()
                self.sell(size=size, sl=close * (1 + stop), tp=close * (1 - take))

    frame = _frame(data)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = Backtest(frame, SmaCross, cash=p["cash"], commission=p["fee"], finalize_trades=False).run()
    seconds = time.perf_counter() - started
    return {"final_equity": float(stats["Equity Final [$]"]), "trades": int(stats["# Trades"]),
            "seconds": seconds}


def run_vectorbt(data: dict[str, np.ndarray], p: dict[str, float]) -> dict[str, float]:
    import vectorbt as vbt

    def once() -> tuple[float, int]:
        close = pd.Series(data["close"], index=pd.to_datetime(data["timestamps"], unit="s"))
        fast = vbt.MA.run(close, int(p["fast"])).ma
        slow = vbt.MA.run(close, int(p["slow"])).ma
        up = fast.vbt.crossed_above(slow).to_numpy()
        down = fast.vbt.crossed_below(slow).to_numpy()
        # Decided at the close of bar i, filled at the open of bar i + 1.
        long_entries = np.zeros_like(up)
        short_entries = np.zeros_like(down)
        long_entries[1:] = up[:-1]
        short_entries[1:] = down[:-1]
        portfolio = vbt.Portfolio.from_signals(
            close, entries=long_entries, exits=np.zeros_like(up), short_entries=short_entries,
            short_exits=np.zeros_like(up), price=data["open"], open=data["open"], high=data["high"],
            low=data["low"], sl_stop=p["stop_loss"], tp_stop=p["take_profit"], stop_entry_price="fillprice",
            fees=p["fee"], size=p["size"], size_type="amount", init_cash=p["cash"],
            upon_opposite_entry="reverse", freq="1min",
        )
        return float(portfolio.final_value()), int(portfolio.trades.count())

    started = time.perf_counter()
    once()
    cold = time.perf_counter() - started
    started = time.perf_counter()
    final, trades = once()
    warm = time.perf_counter() - started
    return {"final_equity": final, "trades": trades, "seconds": warm, "cold_seconds": cold}


def main() -> None:
    peer, path, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    with np.load(path) as loaded:
        data = {name: loaded[name] for name in loaded.files}
    runner = {"backtesting.py": run_backtesting_py, "vectorbt": run_vectorbt}[peer]
    print(json.dumps(runner(data, params)))


if __name__ == "__main__":
    main()
