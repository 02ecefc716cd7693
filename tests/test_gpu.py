"""CUDA path: runs where a GPU is visible, skipped elsewhere."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skvae import VAETransformer

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]


def test_fit_on_gpu_agrees_with_cpu_and_loads_on_cpu(small_data):
    params = dict(hidden_layer_sizes=(16,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gpu = VAETransformer(device="cuda", **params).fit(small_data)
        cpu = VAETransformer(device="cpu", **params).fit(small_data)
    assert gpu.device_.startswith("cuda")
    assert next(gpu.module_.parameters()).is_cuda
    # Same seed, same initial weights; the training noise comes from a CUDA
    # generator, so the runs differ by sampling noise only.
    assert gpu.loss_curve_[-1] < gpu.loss_curve_[0]
    assert np.all(np.isfinite(gpu.score_samples(small_data)))
    assert abs(gpu.score(small_data) - cpu.score(small_data)) < 0.1 * abs(
        cpu.score(small_data)
    )
    loaded = pickle.loads(pickle.dumps(gpu))
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())
    np.testing.assert_allclose(
        loaded.transform(small_data), gpu.transform(small_data), rtol=1e-6, atol=1e-8
    )
