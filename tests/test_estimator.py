"""VAETransformer's behaviour: closed forms, real data, API conventions, errors."""

import io
import pickle
import re
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from scipy import stats
from sklearn.base import clone
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skvae import VAETransformer
from skvae._torch_utils import row_noise

FAST = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
# A cheaper network and objective, for tests about what surrounds training.
SMALL = dict(hidden_layer_sizes=(64, 32), objective="elbo", n_mc_samples=1)


@pytest.fixture
def fitted(small_data, quiet_fit):
    return quiet_fit(VAETransformer(**FAST), small_data)


# ------------------------------------------------------------- closed forms


def test_linear_vae_reaches_factor_analysis_log_likelihood(
    factor_analysis_data, quiet_fit
):
    """A VAE with linear maps is factor analysis; it must reach FA's optimum."""
    X_train, X_test = factor_analysis_data
    fa = FactorAnalysis(n_components=2).fit(X_train)
    vae = VAETransformer(
        n_components=2,
        hidden_layer_sizes=(),
        learning_rate=1e-2,
        max_iter=100,
        n_importance_samples=256,
        random_state=0,
    )
    quiet_fit(vae, X_train)
    assert vae.score(X_test) == pytest.approx(fa.score(X_test), abs=0.05)


def test_importance_sampling_tightens_the_score(digits_split, quiet_fit):
    X_train, X_test, _, _ = digits_split
    vae = quiet_fit(VAETransformer(5, max_iter=30, random_state=0, **SMALL), X_train)
    scores = []
    for n_draws in [1, 10, 100, 1000]:
        scores.append(vae.set_params(n_importance_samples=n_draws).score(X_test[:300]))
    assert np.all(np.diff(scores) > 0)


def test_row_noise_is_keyed_by_row_values():
    X = np.random.RandomState(0).normal(size=(3000, 4))
    noise = row_noise(X, 7, 40, 3, torch.device("cpu"), torch.float64).numpy()
    assert noise.shape == (40, 3000, 3)
    assert stats.kstest(noise.ravel(), "norm").pvalue > 1e-3
    reversed_rows = row_noise(X[::-1], 7, 40, 3, torch.device("cpu"), torch.float64)
    np.testing.assert_array_equal(reversed_rows.numpy()[:, ::-1], noise)
    float32_rows = row_noise(
        X.astype(np.float32), 7, 1, 3, torch.device("cpu"), torch.float64
    )
    same_values = row_noise(
        X.astype(np.float32).astype(np.float64),
        7,
        1,
        3,
        torch.device("cpu"),
        torch.float64,
    )
    np.testing.assert_array_equal(float32_rows, same_values)
    # Rows draw independently: averaging over rows averages the noise away
    # (shared draws would leave a standard deviation of 1 here).
    assert noise.mean(axis=1).std() < 2.0 / np.sqrt(3000)


def test_scores_are_in_the_units_of_the_data(small_data, quiet_fit):
    """Rescaling X by c shifts every log-density by -n_features * log(c).

    With c a power of two the standardised data are bit-identical, so the two
    fits are the same model and the shift must be exact.
    """
    c = 1024.0
    vae = VAETransformer(**FAST)
    small = quiet_fit(clone(vae), small_data).score_samples(small_data)
    large = quiet_fit(clone(vae), small_data * c).score_samples(small_data * c)
    n_features = small_data.shape[1]
    np.testing.assert_allclose(large, small - n_features * np.log(c), rtol=1e-12)


def test_vae_beats_linear_models_on_digits(digits_split, quiet_fit):
    # The digits' pixels are integers. Without the grid's variance floor,
    # per-point variances shrink onto the pixel levels and held-out rows with
    # a level seen rarely score below factor analysis (-140 against -133
    # nats); with it the default VAE is far above both linear models.
    X_train, X_test, _, _ = digits_split
    n_components = 5
    fa = FactorAnalysis(n_components, random_state=0).fit(X_train)
    pca = PCA(n_components).fit(X_train)
    vae = quiet_fit(VAETransformer(n_components, random_state=0), X_train)
    vae_score = vae.score(X_test)
    assert vae_score > fa.score(X_test) + 20
    assert vae_score > pca.score(X_test) + 20


# ------------------------------------------------------------- the methods


def test_transform_is_the_deterministic_posterior_mean(fitted, small_data):
    Z, Z_std = fitted.transform(small_data, return_std=True)
    assert Z.shape == Z_std.shape == (len(small_data), 2)
    assert np.all(Z_std > 0)
    np.testing.assert_array_equal(Z, fitted.transform(small_data))
    np.testing.assert_array_equal(Z, fitted.fit_transform(small_data))


def test_inverse_transform_returns_data_units(small_data, quiet_fit):
    vae = quiet_fit(VAETransformer(**{**FAST, "max_iter": 60}), small_data)
    reconstruction = vae.inverse_transform(vae.transform(small_data))
    assert reconstruction.shape == small_data.shape
    # The decoded means sit near the feature means, not near 0 (standardised).
    np.testing.assert_allclose(
        reconstruction.mean(0), small_data.mean(0), atol=0.5 * small_data.std(0).max()
    )
    with pytest.raises(ValueError, match="n_components"):
        vae.inverse_transform(np.zeros((3, 5)))


def test_sample_returns_data_and_latent_codes(fitted):
    X, Z = fitted.sample(7)
    assert X.shape == (7, fitted.n_features_in_)
    assert Z.shape == (7, 2)
    X_again, _ = fitted.sample(7)
    np.testing.assert_array_equal(X, X_again)  # int random_state: same draws
    X_other, _ = fitted.sample(7, random_state=1)
    assert not np.allclose(X, X_other)
    with pytest.raises(ValueError, match="n_samples"):
        fitted.sample(0)


def test_bernoulli_likelihood_on_unit_interval_data(quiet_fit):
    rng = np.random.RandomState(0)
    X = (rng.uniform(size=(80, 6)) > 0.7).astype(float)
    vae = quiet_fit(VAETransformer(likelihood="bernoulli", **FAST), X)
    samples, _ = vae.sample(20)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    probabilities = vae.inverse_transform(vae.transform(X))
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    assert np.all(vae.score_samples(X) < 0)  # log-probabilities of binary data
    with pytest.raises(ValueError, match=r"lie in \[0, 1\].*MinMaxScaler"):
        vae.fit(X * 2 - 0.5)
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        vae.score_samples(X + 1)


def test_score_samples_ignores_other_rows_and_order(fitted, small_data):
    scores = fitted.score_samples(small_data)
    order = np.random.RandomState(1).permutation(len(small_data))
    np.testing.assert_allclose(fitted.score_samples(small_data[order]), scores[order])
    np.testing.assert_allclose(fitted.score_samples(small_data[5:9]), scores[5:9])
    np.testing.assert_array_equal(fitted.score_samples(small_data), scores)
    assert fitted.score(small_data) == pytest.approx(scores.mean())


def test_constant_features_give_finite_results(quiet_fit):
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(size=50), np.full(50, 3.0), np.zeros(50)])
    vae = quiet_fit(VAETransformer(**FAST), X)
    assert np.all(np.isfinite(vae.score_samples(X)))
    assert np.all(np.isfinite(vae.transform(X)))
    assert np.all(np.isfinite(vae.sample(5)[0]))
    np.testing.assert_array_equal(vae.input_scale_[1:], [1.0, 1.0])


# ------------------------------------------------------------- training


def test_convergence_warning_when_max_iter_is_reached(small_data):
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        VAETransformer(max_iter=2, random_state=0).fit(small_data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        vae = VAETransformer(max_iter=50, tol=1e6, n_iter_no_change=2, random_state=0)
        vae.fit(small_data)
    # The first epoch, then two without improvement, and two more after each
    # of the two learning-rate decays.
    assert vae.n_iter_ == 7


def test_loss_curve_decreases(small_data, quiet_fit):
    vae = VAETransformer(
        **{**FAST, "max_iter": 40}, n_iter_no_change=50, early_stopping=False
    )
    quiet_fit(vae, small_data)
    assert len(vae.loss_curve_) == vae.n_iter_ == 40
    assert len(vae.epoch_times_) == 40
    assert vae.loss_curve_[-1] < vae.loss_curve_[0]
    assert vae.validation_scores_ is None and vae.best_validation_score_ is None


def test_early_stopping_records_validation_scores(digits_split, quiet_fit):
    X_train = digits_split[0]
    vae = VAETransformer(
        early_stopping=True, n_iter_no_change=3, max_iter=200, random_state=0, **SMALL
    )
    quiet_fit(vae, X_train)
    assert vae.n_iter_ < 200
    assert len(vae.validation_scores_) == vae.n_iter_
    assert vae.best_validation_score_ == max(vae.validation_scores_)


def test_validation_fraction_must_leave_training_rows():
    X = np.random.RandomState(0).normal(size=(2, 3))
    vae = VAETransformer(early_stopping=True, validation_fraction=0.9)
    with pytest.raises(ValueError, match="leaves no training rows"):
        vae.fit(X)


def test_partial_fit_streams_one_epoch_per_call(small_data):
    vae = VAETransformer(**FAST)
    for block in np.array_split(small_data, 3):
        vae.partial_fit(block)
    assert vae.n_iter_ == 3 and len(vae.loss_curve_) == 3
    mean_after_first_block = vae.input_mean_.copy()
    vae.partial_fit(small_data)
    np.testing.assert_array_equal(vae.input_mean_, mean_after_first_block)
    assert vae.n_iter_ == 4


def test_warm_start_continues_training(small_data, quiet_fit):
    vae = quiet_fit(VAETransformer(**FAST, warm_start=True), small_data)
    weights = vae.module_.decoder.output_head.weight.detach().clone()
    quiet_fit(vae, small_data)
    assert vae.n_iter_ == 10
    assert not torch.equal(weights, vae.module_.decoder.output_head.weight)
    cold = quiet_fit(VAETransformer(**FAST), small_data)
    quiet_fit(cold, small_data)
    assert cold.n_iter_ == 5


def test_same_seed_same_numbers(small_data, quiet_fit):
    first = quiet_fit(VAETransformer(**FAST), small_data)
    second = quiet_fit(VAETransformer(**FAST), small_data)
    assert first.loss_curve_ == second.loss_curve_
    np.testing.assert_array_equal(
        first.transform(small_data), second.transform(small_data)
    )
    np.testing.assert_array_equal(
        first.score_samples(small_data), second.score_samples(small_data)
    )
    other = quiet_fit(VAETransformer(**{**FAST, "random_state": 1}), small_data)
    assert other.loss_curve_ != first.loss_curve_


def test_fit_leaves_global_random_state_alone(small_data, quiet_fit):
    torch_state = torch.random.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()
    quiet_fit(VAETransformer(**FAST), small_data)
    assert torch.equal(torch_state, torch.random.get_rng_state())
    np.testing.assert_array_equal(numpy_state, np.random.get_state()[1])


def test_verbose_prints_one_line_per_epoch(small_data, capsys, quiet_fit):
    quiet_fit(VAETransformer(**FAST), small_data)
    assert capsys.readouterr().out == ""
    quiet_fit(VAETransformer(**FAST, verbose=2, early_stopping=False), small_data)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6
    assert re.match(r"Epoch 1/5: loss = -?\d+\.\d+, \d+\.\d+s", lines[0])
    assert lines[-1].startswith(
        "Stopped after epoch 5: reached max_iter=5 before the stopping rule was "
        "met; kept the weights of epoch "
    )
    assert re.search(r"; \d+\.\d s\.$", lines[-1])


def test_verbose_1_prints_every_tenth_epoch_away_from_a_terminal(
    small_data, capsys, quiet_fit
):
    params = dict(FAST, max_iter=25, early_stopping=False)
    quiet_fit(VAETransformer(**params, verbose=1), small_data)
    lines = capsys.readouterr().out.strip().splitlines()
    epochs = [int(re.match(r"Epoch (\d+)/25", line)[1]) for line in lines[:-1]]
    assert epochs == [1, 10, 20]
    assert lines[-1].startswith("Stopped after epoch 25")


def test_verbose_1_draws_a_progress_bar_on_a_terminal(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    import skvae._training as training

    monkeypatch.setattr(training.sys.stderr, "isatty", lambda: True, raising=False)
    progress = training.Progress(max_epochs=4, verbose=1)
    assert progress.bar is not None
    history = training.History(loss_curve=[1.5], epoch_times=[0.1])
    progress.epoch_done(1, history)
    progress.note("Plateau: a note")
    assert progress.bar.n == 1
    progress.close()
    captured = capsys.readouterr()
    assert "Plateau: a note" in captured.out + captured.err
    assert "Epoch 1/4" not in captured.out  # the bar, not lines


def test_verbose_says_why_training_stopped_and_which_weights_were_kept(
    small_data, capsys
):
    vae = VAETransformer(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        n_iter_no_change=3,
        lr_plateau_decays=1,
        max_iter=500,
        learning_rate=0.05,
        verbose=1,
        random_state=0,
    ).fit(small_data)
    lines = capsys.readouterr().out.strip().splitlines()
    best = int(np.argmax(vae.validation_scores_)) + 1
    assert re.fullmatch(
        re.escape(
            f"Stopped after epoch {vae.n_iter_}: the validation score did not "
            f"improve by more than tol=0.0001 for n_iter_no_change=3 epochs, after "
            f"1 learning-rate decay(s); kept the weights of epoch {best} "
            f"(validation score {max(vae.validation_scores_):.4f}); "
        )
        + r"\d+\.\d s\.",
        lines[-1],
    )
    decays = [line for line in lines if line.startswith("Plateau")]
    assert len(decays) == 1 and "divided by 3 to 0.0167" in decays[0]
    # The decay went on from the best epoch seen before it.
    (decay_epoch,) = vae.lr_decay_epochs_
    best_before = int(np.argmax(vae.validation_scores_[:decay_epoch])) + 1
    assert decays[0].endswith(f"going on from the weights of epoch {best_before}.")


# ------------------------------------------------------------- conventions


def test_grid_search_in_a_pipeline_uses_score(digits_split):
    X_train = digits_split[0][:600]
    pipeline = Pipeline(
        [
            ("scale", MinMaxScaler()),
            # Minibatches of 128: this test is about the search, not the
            # schedule, and on 270 training rows 'auto' takes three times
            # the steps.
            ("vae", VAETransformer(max_iter=30, batch_size=128, random_state=0)),
        ]
    )
    search = GridSearchCV(pipeline, {"vae__n_components": [1, 4]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_train)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_ == {"vae__n_components": 4}
    assert search.transform(X_train).shape == (600, 4)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_persistence_round_trip_is_exact(fitted, small_data, dump, tmp_path, quiet_fit):
    if fitted.device_ != "cpu":  # a model loads on the CPU (see test_gpu.py)
        fitted = quiet_fit(fitted.set_params(device="cpu"), small_data)
    path = tmp_path / "model"
    if dump == "pickle":
        loaded = pickle.loads(pickle.dumps(fitted))
    else:
        joblib.dump(fitted, path)
        loaded = joblib.load(path)
    Z = fitted.transform(small_data)
    np.testing.assert_array_equal(loaded.transform(small_data), Z)
    np.testing.assert_array_equal(
        loaded.inverse_transform(Z), fitted.inverse_transform(Z)
    )
    np.testing.assert_array_equal(
        loaded.score_samples(small_data), fitted.score_samples(small_data)
    )
    np.testing.assert_array_equal(loaded.sample(4)[0], fitted.sample(4)[0])
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())
    loaded.partial_fit(small_data)  # the optimiser state travels too
    assert loaded.n_iter_ == fitted.n_iter_ + 1


def test_unfitted_estimator_pickles_and_refuses_to_transform(small_data):
    vae = pickle.loads(pickle.dumps(VAETransformer(n_components=3)))
    assert vae.get_params()["n_components"] == 3
    for method in ("transform", "score_samples", "score", "inverse_transform"):
        with pytest.raises(NotFittedError):
            getattr(vae, method)(small_data)
    with pytest.raises(NotFittedError):
        vae.sample()


def test_pandas_in_and_out(small_data, quiet_fit):
    columns = [f"f{i}" for i in range(small_data.shape[1])]
    frame = pd.DataFrame(small_data, columns=columns)
    vae = quiet_fit(VAETransformer(**FAST).set_output(transform="pandas"), frame)
    np.testing.assert_array_equal(vae.feature_names_in_, columns)
    Z = vae.transform(frame)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == ["vaetransformer0", "vaetransformer1"]
    assert list(vae.get_feature_names_out()) == list(Z.columns)
    with pytest.warns(UserWarning, match="feature names"):
        vae.transform(small_data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_and_input_never_modified(small_data, dtype, quiet_fit):
    X = small_data.astype(dtype)
    original = X.copy()
    X.setflags(write=False)  # any write would raise
    vae = quiet_fit(VAETransformer(**FAST), X)
    assert vae.transform(X).dtype == dtype
    assert vae.score_samples(X).dtype == np.float64
    vae.partial_fit(X)
    np.testing.assert_array_equal(X, original)


def test_int_and_bool_input_are_accepted(small_data, quiet_fit):
    vae = quiet_fit(VAETransformer(**FAST), small_data.astype(int))
    assert vae.transform(small_data.astype(int)).dtype == np.float64
    quiet_fit(VAETransformer(**FAST), small_data > 0)


# ------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_values_are_rejected(fitted, small_data, bad):
    # NaN is a missing value (tests/test_missing.py); infinity is an error.
    X = small_data.copy()
    X[3, 1] = bad
    for method in (VAETransformer(**FAST).fit, fitted.transform, fitted.score_samples):
        with pytest.raises(ValueError, match="infinity"):
            method(X)


def test_wrong_number_of_features_is_rejected(fitted, small_data):
    with pytest.raises(ValueError, match="expecting 5 features"):
        fitted.transform(small_data[:, :3])
    with pytest.raises(ValueError, match="expecting 5 features"):
        fitted.score_samples(small_data[:, :3])


def test_empty_and_non_numeric_input_are_rejected(small_data):
    with pytest.raises(ValueError, match="0 sample"):
        VAETransformer().fit(np.empty((0, 3)))
    with pytest.raises(ValueError, match="holds text.*OneHotEncoder"):
        VAETransformer().fit(np.array([["a", "b"], ["c", "d"]], dtype=object))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_components": 0}, "n_components"),
        ({"likelihood": "poisson"}, "likelihood"),
        ({"activation": "swish"}, "activation"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"hidden_layer_sizes": (8, -1)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (8.5,)}, "hidden_layer_sizes"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_invalid_parameters_are_named(small_data, params, message):
    with pytest.raises(ValueError, match=message):
        VAETransformer(**params).fit(small_data)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_a_clear_error(small_data):
    with pytest.raises(ValueError, match="CUDA is not available"):
        VAETransformer(device="cuda").fit(small_data)


def test_batch_size_larger_than_the_data_is_clipped(small_data, quiet_fit):
    vae = quiet_fit(VAETransformer(**FAST, batch_size=10_000), small_data)
    assert np.all(np.isfinite(vae.score_samples(small_data)))


def test_divergence_in_the_first_epoch_raises_and_leaves_it_unfitted(small_data):
    vae = VAETransformer(learning_rate=1e8, **FAST).set_output(transform="pandas")
    with pytest.raises(FloatingPointError, match="smaller learning_rate"):
        vae.fit(small_data)
    with pytest.raises(NotFittedError):
        vae.transform(small_data)
    assert vae._sklearn_output_config == {"transform": "pandas"}  # kept


def test_divergence_later_restores_weights_and_warns(small_data, monkeypatch):
    import skvae._training as training

    real_run_epoch = training.run_epoch
    epochs = []

    def run_epoch_that_fails_third(*args, **kwargs):
        epochs.append(None)
        loss = real_run_epoch(*args, **kwargs)
        return float("nan") if len(epochs) == 3 else loss

    monkeypatch.setattr(training, "run_epoch", run_epoch_that_fails_third)
    with pytest.warns(ConvergenceWarning, match="diverged after 2 epoch"):
        vae = VAETransformer(**{**FAST, "max_iter": 10}).fit(small_data)
    assert vae.n_iter_ == 2
    assert np.all(np.isfinite(vae.score_samples(small_data)))


def test_sparse_input_is_densified_block_by_block(small_data, quiet_fit):
    import scipy.sparse as sp

    X = small_data.copy()
    X[np.abs(X) < 1.0] = 0.0
    dense = quiet_fit(VAETransformer(**FAST), X)
    for container in (sp.csr_matrix, sp.csc_matrix, sp.coo_array):
        sparse = quiet_fit(VAETransformer(**FAST), container(X))
        np.testing.assert_allclose(sparse.input_mean_, dense.input_mean_)
        np.testing.assert_allclose(sparse.input_scale_, dense.input_scale_)
        np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-6)
        np.testing.assert_allclose(
            sparse.score_samples(container(X)), dense.score_samples(X), rtol=1e-10
        )


def test_pickled_weights_load_with_torch_weights_only(fitted):
    state = fitted.__getstate__()
    assert isinstance(state["module_"], bytes)
    weights = torch.load(io.BytesIO(state["module_"]), weights_only=True)
    assert set(weights) == set(fitted.module_.state_dict())


def test_warm_start_applies_a_changed_learning_rate(small_data, quiet_fit):
    vae = quiet_fit(VAETransformer(**FAST, warm_start=True), small_data)
    before = [p.detach().clone() for p in vae.module_.parameters()]
    # A vanishing step: the weights must barely move (they would move by
    # about 1e-3 per step if the old learning rate were still in use).
    quiet_fit(vae.set_params(learning_rate=1e-12), small_data)
    for old, new in zip(before, vae.module_.parameters(), strict=True):
        torch.testing.assert_close(new, old, rtol=0, atol=1e-9)


def test_warm_start_with_a_new_solver_uses_it(small_data, quiet_fit):
    vae = quiet_fit(VAETransformer(**FAST, warm_start=True), small_data)
    quiet_fit(vae.set_params(solver="sgd"), small_data)
    assert isinstance(vae._optimizer, torch.optim.SGD)
    assert vae.n_iter_ == 2 * FAST["max_iter"]


def test_warm_start_keeps_the_validation_rows(small_data, quiet_fit):
    vae = quiet_fit(
        VAETransformer(**FAST, early_stopping=True, warm_start=True), small_data
    )
    first_rows = vae._split_rows(len(small_data), np.random.RandomState(1))[1]
    quiet_fit(vae, small_data)
    second_rows = vae._split_rows(len(small_data), np.random.RandomState(2))[1]
    np.testing.assert_array_equal(np.sort(first_rows), np.sort(second_rows))
    # best_validation_score_ belongs to the weights kept: this call's epochs.
    n_first = len(vae.validation_scores_) - (vae.n_iter_ - FAST["max_iter"])
    assert vae.best_validation_score_ == max(vae.validation_scores_[n_first:])


# ----------------------------------------------------------- variance floor


def test_resolution_variance_is_the_rounding_variance_of_each_feature():
    from skvae._data import resolution_variance as _resolution_variance

    rng = np.random.RandomState(0)
    X = np.column_stack(
        [
            rng.randint(0, 17, size=2000),  # integers
            np.round(rng.normal(size=2000), 1),  # rounded to 0.1
            np.full(2000, 3.0),  # constant
            rng.normal(size=2000),  # continuous
        ]
    )
    X_before = X.copy()
    variance = _resolution_variance(X)
    np.testing.assert_allclose(variance[:2], [1 / 12, 0.01 / 12], rtol=1e-9)
    assert variance[2] == 0 and 0 < variance[3] < 1e-9
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(_resolution_variance(sp.csr_matrix(X)), variance)


def test_variance_floor_follows_the_grid_of_integer_features(quiet_fit):
    X = np.random.RandomState(0).randint(0, 17, size=(500, 3)).astype(float)
    vae = quiet_fit(VAETransformer(max_iter=2, random_state=0), X)
    assert np.all(1e-3 * X.var(axis=0) < 1 / 12)
    np.testing.assert_allclose(vae.variance_floor_, 1 / 12)
    # Continuous data keep the relative floor.
    X = np.random.RandomState(0).normal(size=(300, 4)) * [1, 10, 100, 0.1]
    vae = quiet_fit(VAETransformer(max_iter=2, random_state=0), X)
    np.testing.assert_allclose(vae.variance_floor_, 1e-3 * X.var(axis=0))


def test_row_statistic_defaults_and_errors(small_data, quiet_fit):
    vae = quiet_fit(
        VAETransformer(hidden_layer_sizes=(8,), max_iter=5, random_state=0), small_data
    )
    np.testing.assert_array_equal(
        vae.row_statistic(small_data), vae.score_samples(small_data)
    )
    np.testing.assert_array_equal(
        vae.row_statistic(small_data, "elbo"),
        vae.row_statistic(small_data, "elbo", n_draws=vae.n_importance_samples),
    )
    with pytest.raises(ValueError, match="statistic must be one of"):
        vae.row_statistic(small_data, "likelihood")
    with pytest.raises(ValueError, match="n_draws must be a positive integer"):
        vae.row_statistic(small_data, "elbo", n_draws=0)


def test_more_components_than_features_warns(small_data, quiet_fit):
    n_features = small_data.shape[1]
    vae = VAETransformer(n_components=n_features + 1, max_iter=1, random_state=0)
    with pytest.warns(
        UserWarning, match=rf"larger than the number of features \({n_features}\)"
    ):
        vae.fit(small_data)
    # As many as the features is fine, and partial_fit warns the same way once.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        quiet_fit(VAETransformer(n_components=n_features, max_iter=1), small_data)
    with pytest.warns(UserWarning, match="larger than the number of features"):
        VAETransformer(n_components=n_features + 2).partial_fit(small_data)


def test_non_numeric_columns_are_named_with_advice():
    X = pd.DataFrame(
        {
            "size": [1.0, 2.0, 3.0, 4.0],
            "colour": ["red", "green", "red", "blue"],
            "grade": pd.Categorical(["a", "b", "a", "b"]),
            "count": pd.array([1, 2, None, 4], dtype="Int64").fillna(0),
            "flag": [True, False, True, True],
        }
    )
    with pytest.raises(
        ValueError, match=r"'colour', 'grade' are not numeric.*OneHotEncoder"
    ):
        VAETransformer(max_iter=1).fit(X)


@pytest.mark.parametrize(
    "X",
    [
        np.array([["1.5", "a"], ["2.0", "b"]]),
        np.array([[1.5, "a"], [2.0, "b"]], dtype=object),
        np.array([[b"1.5", b"a"], [b"2.0", b"b"]]),
    ],
    ids=["str", "object", "bytes"],
)
def test_array_of_text_is_named_with_advice(X):
    with pytest.raises(
        ValueError,
        match=r"array that holds text \('a' in column 1\).*OrdinalEncoder"
        r".*likelihood='auto'",
    ):
        VAETransformer(max_iter=1).fit(X)


def test_array_of_numbers_written_as_text_still_fits(quiet_fit):
    X = np.random.RandomState(0).normal(size=(20, 3))
    as_text = quiet_fit(VAETransformer(max_iter=1, random_state=0), X.astype(str))
    assert as_text.n_features_in_ == 3


def test_given_input_scaling_makes_partial_fit_independent_of_block_order(quiet_fit):
    X = np.random.RandomState(0).normal(
        loc=[0.0, 5.0, -3.0], scale=[1.0, 4.0, 0.5], size=(600, 3)
    )
    blocks = [X[:300] + 2.0, X[300:]]  # the blocks differ in their means
    scaling = (X.mean(axis=0), X.std(axis=0))
    fitted = []
    for order in (blocks, blocks[::-1]):
        vae = VAETransformer(
            hidden_layer_sizes=(8,), input_scaling=scaling, random_state=0
        )
        for block in order:
            vae.partial_fit(block)
        fitted.append(vae)
    for vae in fitted:
        np.testing.assert_array_equal(vae.input_mean_, scaling[0])
        np.testing.assert_array_equal(vae.input_scale_, scaling[1])
    # 'auto' takes the first block's statistics, which differ with the order.
    auto = [
        VAETransformer(hidden_layer_sizes=(8,)).partial_fit(block) for block in blocks
    ]
    assert not np.allclose(auto[0].input_mean_, auto[1].input_mean_)
    # fit with the data's own statistics given equals fit with 'auto'.
    given = quiet_fit(
        VAETransformer(max_iter=2, input_scaling=scaling, random_state=0), X
    )
    own = quiet_fit(VAETransformer(max_iter=2, random_state=0), X)
    np.testing.assert_allclose(given.score_samples(X), own.score_samples(X), rtol=1e-12)


@pytest.mark.parametrize(
    "scaling, message",
    [
        ((np.zeros(3),), "a pair"),
        ((np.zeros(2), np.ones(3)), "mean has 2 values; X has 3 features"),
        ((np.zeros(3), -np.ones(3)), "must be non-negative"),
        ((np.zeros(3), [1.0, np.nan, 1.0]), "NaN"),
    ],
)
def test_input_scaling_errors(small_data, scaling, message):
    with pytest.raises(ValueError, match=message):
        VAETransformer(input_scaling=scaling).fit(small_data[:, :3])


def test_input_scaling_is_for_standardising_likelihoods_only():
    counts = np.random.RandomState(0).poisson(2.0, size=(50, 3)).astype(float)
    vae = VAETransformer(likelihood="poisson", input_scaling=(np.zeros(3), np.ones(3)))
    with pytest.raises(ValueError, match="reads X as given"):
        vae.fit(counts)
