"""Messy input, training faults and persistence: clear answers, never NaN."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skvae import VAETransformer

FAST = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)


@pytest.fixture
def fit_quietly(quiet_fit):
    """``fit_quietly(X, **params)``: a FAST VAE with ``params``, fitted quietly."""

    def fit(X, **params):
        return quiet_fit(VAETransformer(**{**FAST, **params}), X)

    return fit


def assert_all_finite(vae, X):
    assert np.all(np.isfinite(vae.transform(X)))
    assert np.all(np.isfinite(vae.score_samples(X)))
    assert np.all(np.isfinite(vae.sample(3)[0]))
    assert np.all(np.isfinite(vae.inverse_transform(vae.transform(X))))


# ------------------------------------------------------------- shapes


def test_one_row_one_feature_and_tiny_data(fit_quietly):
    rng = np.random.RandomState(0)
    for X in (
        rng.normal(size=(1, 4)),
        rng.normal(size=(30, 1)),
        rng.normal(size=(2, 2)),
    ):
        assert_all_finite(fit_quietly(X), X)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((0, 3)), "0 sample"),
        (np.zeros((3, 0)), "0 feature"),
        (np.zeros((4, 3, 2)), "dim 3"),
        (np.zeros(5), "Expected 2D array"),
        ([[1.0, "a"], [2.0, "b"]], "could not convert|Unable to convert"),
    ],
)
def test_malformed_arrays_are_named(X, message):
    with pytest.raises(ValueError, match=message):
        VAETransformer().fit(X)


def test_lists_are_accepted(fit_quietly):
    X = np.random.RandomState(0).normal(size=(20, 3))
    vae = fit_quietly(X.tolist())
    np.testing.assert_array_equal(vae.transform(X.tolist()), vae.transform(X))


# ------------------------------------------------------------- values


def test_extreme_feature_scales_stay_finite(fit_quietly):
    rng = np.random.RandomState(0)
    X = np.column_stack(
        [rng.normal(size=50) * 1e30, rng.normal(size=50) * 1e-30, rng.normal(size=50)]
    )
    vae = fit_quietly(X)
    assert_all_finite(vae, X)
    # log-densities in the data's units: the 1e-30 feature adds about +69 nats,
    # the 1e30 one about -69; they cancel, leaving an O(1) total per row.
    assert abs(np.median(vae.score_samples(X))) < 20


def test_huge_values_at_transform_time_do_not_produce_nan(fit_quietly):
    X = np.random.RandomState(0).normal(size=(40, 3))
    vae = fit_quietly(X)
    far = np.array([[1e30, -1e30, 1e300]])
    assert np.all(np.isfinite(vae.transform(far)))
    assert np.all(~np.isnan(vae.score_samples(far)))  # -inf: impossibly far


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int64, np.uint8, bool, np.float16, object]
)
def test_numeric_dtypes_are_accepted(dtype, fit_quietly):
    X = (np.random.RandomState(0).normal(size=(30, 3)) * 3).astype(dtype)
    vae = fit_quietly(X)
    assert vae.transform(X).dtype == np.float64
    assert_all_finite(vae, X)


def test_pandas_mixed_dtypes_and_string_columns(fit_quietly):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "integer": rng.randint(0, 5, 30),
            "real": rng.normal(size=30),
            "flag": rng.uniform(size=30) > 0.5,
        }
    )
    vae = fit_quietly(frame)
    assert_all_finite(vae, frame)
    # The error names the column and says how to encode it.
    with pytest.raises(ValueError, match="'city' are not numeric.*OneHotEncoder"):
        fit_quietly(frame.assign(city=["Paris"] * 30))


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_sparse_values_are_rejected(bad):
    X = sp.random(20, 4, density=0.5, format="csr", random_state=0)
    X.data[0] = bad
    with pytest.raises(ValueError, match="infinity"):
        VAETransformer().fit(X)


def test_caller_arrays_are_never_modified(fit_quietly):
    rng = np.random.RandomState(0)
    dense = rng.normal(size=(40, 4))
    frame = pd.DataFrame(dense.copy(), columns=list("abcd"))
    sparse = sp.csr_matrix(np.where(np.abs(dense) > 1, dense, 0.0))
    copies = (dense.copy(), frame.copy(), sparse.copy())
    for X in (dense, frame, sparse):
        vae = fit_quietly(X)
        vae.partial_fit(X)
        vae.transform(X)
        vae.score_samples(X)
    np.testing.assert_array_equal(dense, copies[0])
    pd.testing.assert_frame_equal(frame, copies[1])
    assert (sparse != copies[2]).nnz == 0


# ------------------------------------------------------------- training faults


def test_keyboard_interrupt_keeps_a_usable_model(monkeypatch):
    import skvae._training as training

    real_run_epoch = training.run_epoch
    calls = []

    def interrupted_in_epoch_four(*args, **kwargs):
        calls.append(None)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_run_epoch(*args, **kwargs)

    monkeypatch.setattr(training, "run_epoch", interrupted_in_epoch_four)
    X = np.random.RandomState(0).normal(size=(50, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # no misleading warning
        with pytest.warns(RuntimeWarning, match="interrupted"):
            vae = VAETransformer(**{**FAST, "max_iter": 50}).fit(X)
    assert vae.n_iter_ == 3
    assert_all_finite(vae, X)


def test_out_of_memory_gives_advice(monkeypatch):
    import skvae._training as training

    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

    monkeypatch.setattr(training, "run_epoch", out_of_memory)
    X = np.random.RandomState(0).normal(size=(50, 3))
    with pytest.raises(MemoryError, match="smaller batch_size.*device='cpu'"):
        VAETransformer(**FAST).fit(X)


def test_early_stopping_keeps_the_best_validation_weights(fit_quietly):
    X = np.random.RandomState(0).normal(size=(300, 6))
    vae = fit_quietly(
        X,
        max_iter=60,
        early_stopping=True,
        n_iter_no_change=5,
        lr_plateau_decays=0,
        hidden_layer_sizes=(32,),
    )
    best_epoch = int(np.argmax(vae.validation_scores_))
    assert vae.n_iter_ == best_epoch + 1 + 5 < 60
    # The same fit cut off after the best epoch ends on that epoch's weights;
    # the full fit must have restored exactly those.
    cut = fit_quietly(
        X,
        max_iter=best_epoch + 1,
        early_stopping=True,
        n_iter_no_change=100,
        lr_plateau_decays=0,
        hidden_layer_sizes=(32,),
    )
    assert cut.validation_scores_ == vae.validation_scores_[: best_epoch + 1]
    for name, value in cut.module_.state_dict().items():
        assert torch.equal(value, vae.module_.state_dict()[name]), name


# ------------------------------------------------------------- persistence


def test_unfitted_methods_raise_not_fitted():
    vae = VAETransformer()
    with pytest.raises(NotFittedError):
        vae.transform(np.zeros((2, 2)))
    with pytest.raises(NotFittedError):
        vae.sample(2)
