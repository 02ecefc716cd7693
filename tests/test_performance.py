"""Behaviour the fast training path must keep: no copies, thread-invariance.

No timings here (machines are noisy); speed is measured by
``benchmarks/training_throughput.py``.
"""

import tracemalloc

import numpy as np
import pytest
import torch

import skvae._training
from skvae import VAETransformer

ONE_DRAW = {"objective": "elbo", "n_mc_samples": 1}


@pytest.fixture
def torch_threads():
    """Set torch's thread count inside a test; restored afterwards."""
    n_threads = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(n_threads)


@pytest.mark.parametrize(
    "n_features, params",
    [
        # digits, 2 latent dimensions; 5, a head with 5 outputs. MKL also
        # splits products between threads when an inner dimension passes
        # about 512 in float32 (5 draws x 128 rows in a weight's gradient) or
        # 256 in float64 (scoring), so these keep 0.1's layers and one draw.
        (None, {**ONE_DRAW, "hidden_layer_sizes": (128, 64)}),
        (None, {**ONE_DRAW, "hidden_layer_sizes": (128, 64), "n_components": 5}),
        (6, {**ONE_DRAW, "n_components": 3, "hidden_layer_sizes": (16,)}),
    ],
)
def test_fit_is_identical_for_any_thread_count(
    digits_split, torch_threads, n_features, params, quiet_fit
):
    # MKL rounds matrix products with 5 to 11 output rows differently with 1
    # and 2 threads. They would arise from a tiny last minibatch (1,287 =
    # 10 x 128 + 7 rows) and from the weight gradients of layers with 5 to 11
    # outputs; near-equal minibatches and column-major narrowing weights
    # avoid both. Products whose inner dimension passes about 700 are split
    # across threads too; skvae's Linear cuts them into blocks.
    if n_features is None:
        X = digits_split[0][:1287]
    else:
        X = np.random.RandomState(0).normal(size=(1287, n_features))
    states, scores = [], []
    for n_threads in (1, 2):
        vae = VAETransformer(max_iter=3, n_threads=n_threads, random_state=0, **params)
        quiet_fit(vae, X)
        states.append(vae.module_.state_dict())
        scores.append(vae.score_samples(X[:50]))
    for name, tensor in states[0].items():
        assert torch.equal(tensor, states[1][name]), name
    np.testing.assert_array_equal(scores[0], scores[1])


@pytest.fixture
def threads_seen_by_training(monkeypatch):
    """Record torch's thread count at every call of the training loop."""
    seen = []
    original = skvae._training.train

    def recording_train(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(skvae._training, "train", recording_train)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    return seen


@pytest.mark.parametrize(
    "n_features, hidden_layer_sizes, expected",
    [(5, (128, 64), "one"), (784, (400,), "default")],
)
def test_estimator_chooses_threads_by_network_size(
    threads_seen_by_training, n_features, hidden_layer_sizes, expected, quiet_fit
):
    from skvae._torch_utils import _TORCH_DEFAULT_THREADS

    X = np.random.RandomState(0).normal(size=(40, n_features))
    vae = VAETransformer(hidden_layer_sizes=hidden_layer_sizes, max_iter=1)
    quiet_fit(vae.set_params(device="cpu", random_state=0), X)
    assert threads_seen_by_training == [
        1 if expected == "one" else _TORCH_DEFAULT_THREADS
    ]


def test_thread_count_set_by_the_user_is_kept(
    threads_seen_by_training, torch_threads, monkeypatch, small_data, quiet_fit
):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    torch_threads(2)
    quiet_fit(VAETransformer(max_iter=1, random_state=0, device="cpu"), small_data)
    quiet_fit(VAETransformer(max_iter=1, n_threads=3, device="cpu"), small_data)
    assert threads_seen_by_training == [2, 3]


def test_caller_thread_count_is_restored(torch_threads, small_data, quiet_fit):
    torch_threads(1)
    vae = VAETransformer(n_threads=2, max_iter=2, random_state=0)
    quiet_fit(vae, small_data)
    vae.score_samples(small_data)
    assert torch.get_num_threads() == 1


def test_minibatches_have_near_equal_sizes(monkeypatch, quiet_fit):
    sizes = []
    original = skvae._training.minibatch_reader

    def recording_reader(*args):
        read = original(*args)

        def read_and_record(rows):
            sizes.append(len(rows))
            return read(rows)

        return read_and_record

    monkeypatch.setattr(skvae._training, "minibatch_reader", recording_reader)
    X = np.random.RandomState(0).normal(size=(263, 3))
    vae = VAETransformer(batch_size=128, max_iter=1, early_stopping=False)
    quiet_fit(vae.set_params(random_state=0), X)
    # The epoch's three minibatches (a fourth read re-checks the final
    # weights on the first minibatch).
    assert sorted(sizes[:3]) == [87, 88, 88]  # not [128, 128, 7]


def test_fit_makes_no_copy_of_float32_input(torch_threads, quiet_fit):
    # tracemalloc sees NumPy's allocations: a float64 conversion, a
    # standardised or a shuffled copy of X would each cost >= X.nbytes. What
    # fit may allocate: index arrays (the training rows and each epoch's
    # shuffled order, 8 bytes per row each) and bounded blocks. (Early
    # stopping adds the validation rows' scoring, in float64 blocks of at most
    # _INFERENCE_BLOCK_NUMBERS numbers: bounded, but above this budget.)
    torch_threads(1)
    X = np.random.RandomState(0).normal(size=(100_000, 20)).astype(np.float32)
    vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=1, early_stopping=False)
    vae.set_params(random_state=0)
    quiet_fit(vae, X[:500])  # first-call allocations (imports, caches)
    tracemalloc.start()
    try:
        quiet_fit(vae, X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.1 * X.nbytes + 3 * 8 * len(X)


def test_column_major_input_trains_like_row_major(digits_split, quiet_fit):
    X = digits_split[0][:400]
    row_major = quiet_fit(VAETransformer(max_iter=2, random_state=0), X)
    column_major = quiet_fit(
        VAETransformer(max_iter=2, random_state=0), np.asfortranarray(X)
    )
    # Equal up to the last bits of the column means (NumPy sums the two
    # layouts in different orders).
    np.testing.assert_allclose(
        row_major.transform(X), column_major.transform(X), rtol=1e-9, atol=1e-12
    )


def test_bfloat16_precision_trains_to_a_similar_bound(digits_split, quiet_fit):
    X_train, X_test = digits_split[0][:800], digits_split[1]
    scores = {}
    for precision in ("float32", "bfloat16"):
        vae = VAETransformer(max_iter=20, precision=precision, random_state=0)
        scores[precision] = quiet_fit(vae, X_train).score(X_test)
    assert np.isfinite(scores["bfloat16"])
    assert scores["bfloat16"] != scores["float32"]  # it did change the arithmetic
    assert abs(scores["bfloat16"] - scores["float32"]) < 2.0


def test_invalid_precision_is_rejected():
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="precision"):
        VAETransformer(precision="float16").fit(X)
