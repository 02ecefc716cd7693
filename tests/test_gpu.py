"""CUDA path: runs where a GPU is visible, skipped elsewhere.

Every public way in that moves data or a model to the device: a fit, its
scores against the same model's on the CPU, a reload on a CPU, data
streamed from the host when it does not fit, mixed tables with gaps,
bfloat16, partial_fit, and the three faces.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skvae import VAEImputer, VAEOutlierDetector, VAESynthesizer, VAETransformer

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]

SMALL = dict(hidden_layer_sizes=(16,), max_iter=20, random_state=0)


def on_cuda(vae):
    return all(p.is_cuda for p in vae.module_.parameters())


def test_fit_on_gpu_agrees_with_cpu_and_loads_on_cpu(small_data, quiet_fit):
    gpu = quiet_fit(VAETransformer(device="cuda", **SMALL), small_data)
    cpu = quiet_fit(VAETransformer(device="cpu", **SMALL), small_data)
    assert gpu.device_.startswith("cuda")
    assert on_cuda(gpu)
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
    # Scoring noise is drawn on the CPU, so one model scores the same rows
    # the same on either device (up to float32 kernels' rounding).
    np.testing.assert_allclose(
        loaded.score_samples(small_data), gpu.score_samples(small_data), rtol=1e-4
    )


def test_the_same_seed_gives_the_same_fit_on_gpu(small_data, quiet_fit):
    first = quiet_fit(VAETransformer(device="cuda", **SMALL), small_data)
    second = quiet_fit(VAETransformer(device="cuda", **SMALL), small_data)
    np.testing.assert_allclose(first.loss_curve_, second.loss_curve_, rtol=1e-6)
    np.testing.assert_allclose(
        first.transform(small_data), second.transform(small_data), rtol=1e-6
    )


def test_data_too_large_for_the_device_is_streamed_from_the_host(
    small_data, monkeypatch, quiet_fit
):
    resident = quiet_fit(VAETransformer(device="cuda", **SMALL), small_data)
    # No free memory reported: each minibatch is copied over instead.
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (0, 80 * 2**30))
    streamed = quiet_fit(VAETransformer(device="cuda", **SMALL), small_data)
    assert on_cuda(streamed)
    np.testing.assert_allclose(streamed.loss_curve_, resident.loss_curve_, rtol=1e-5)


def test_partial_fit_and_bfloat16_on_gpu(small_data):
    vae = VAETransformer(device="cuda", precision="bfloat16", **SMALL)
    for start in range(0, 60, 20):
        vae.partial_fit(small_data[start : start + 20])
    assert on_cuda(vae)
    assert np.all(np.isfinite(vae.score_samples(small_data)))
    samples, codes = vae.sample(5, random_state=0)
    assert samples.shape == (5, small_data.shape[1])
    assert codes.shape == (5, vae.n_components)


def mixed_frame(n=300, seed=0):
    rng = np.random.RandomState(seed)
    level = rng.choice(["a", "b", "c"], n)
    x = np.where(level == "a", -2.0, 1.0) + rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "level": pd.Categorical(level),
            "x": x,
            "count": rng.poisson(3, n),
            "flag": rng.uniform(size=n) < 0.3,
        }
    )
    frame.loc[rng.uniform(size=n) < 0.1, "x"] = np.nan
    return frame


def test_a_mixed_table_with_gaps_on_gpu(quiet_fit):
    frame = mixed_frame()
    vae = quiet_fit(VAETransformer(likelihood="auto", device="cuda", **SMALL), frame)
    assert on_cuda(vae)
    assert np.all(np.isfinite(vae.score_samples(frame)))
    assert vae.transform(frame).shape == (len(frame), vae.n_components)
    samples, _ = vae.sample(4, random_state=0)
    assert list(samples.columns) == list(frame.columns)
    back = vae.inverse_transform(vae.transform(frame))
    assert back.shape == frame.shape


def test_the_faces_run_on_gpu(small_data):
    vae = VAETransformer(device="cuda", **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector = VAEOutlierDetector(vae, random_state=0).fit(small_data)
        assert on_cuda(detector.vae_)
        assert np.all(np.isfinite(detector.score_samples(small_data)))

        holes = small_data.copy()
        holes[::7, 1] = np.nan
        imputer = VAEImputer(vae, random_state=0).fit(holes)
        assert on_cuda(imputer.vae_)
        filled = imputer.transform(holes)
        assert np.all(np.isfinite(filled))
        np.testing.assert_array_equal(filled[:, 0], holes[:, 0])

        frame = mixed_frame()
        synthesizer = VAESynthesizer(vae, random_state=0).fit(frame)
        assert on_cuda(synthesizer.vae_)
        fake = synthesizer.sample(50)
        assert list(fake.columns) == list(frame.columns)
        fixed = synthesizer.sample(20, conditions={"level": "a"})
        assert (fixed["level"] == "a").all()
