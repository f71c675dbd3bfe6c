"""Type stub of the compiled lot kernel (``_lotkernel.pyx``; see :mod:`marginbook.tax.fast.kernel`)."""

import numpy as np
import numpy.typing as npt

_Int64Array = npt.NDArray[np.int64]

#: The compiled column numbers and statuses, by name (tested equal to :mod:`.kernel`'s).
LAYOUT: dict[str, int]

def fold_kernel(
    kind: _Int64Array,
    wallet: _Int64Array,
    wallet2: _Int64Array,
    asset: _Int64Array,
    quantity: _Int64Array,
    key: _Int64Array,
    acquisition: _Int64Array,
    flag: _Int64Array,
    acq_rank: _Int64Array,
    n_wallets: int,
    n_assets: int,
    per_wallet_start: bool,
    method: int,
    wallet_order: _Int64Array,
    asset_order: _Int64Array,
    dust: _Int64Array,
) -> tuple[int, _Int64Array, _Int64Array, _Int64Array, _Int64Array]: ...
