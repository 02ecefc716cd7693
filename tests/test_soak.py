"""Soak test: many fit/transform/score cycles must not leak memory or threads.

Excluded from the default run (marked slow): ``python -m pytest -m slow``.
"""

import gc
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skvae import VAETransformer

pytestmark = pytest.mark.slow


def process_status(field):
    """A number from /proc/self/status: VmRSS (kB) or Threads (OS threads)."""
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("needs /proc to read memory and thread counts")
    for line in status.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])


def test_repeated_cycles_do_not_grow_memory_or_threads():
    X = np.random.RandomState(0).normal(size=(300, 20))
    readings, threads = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for cycle in range(200):
            vae = VAETransformer(
                n_components=3, hidden_layer_sizes=(16,), max_iter=2, random_state=cycle
            ).fit(X)
            vae.transform(X)
            vae.score(X)
            if cycle % 20 == 19:
                gc.collect()
                readings.append(process_status("VmRSS") / 1024)  # MiB
                threads.append((threading.active_count(), process_status("Threads")))
    # After warm-up, resident memory stays flat (allowing allocator noise).
    assert max(readings[1:]) - readings[1] < 30, readings
    assert threads[-1] == threads[0], threads
