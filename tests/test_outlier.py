"""VAEOutlierDetector: API and sign conventions, contamination, planted outliers."""

import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import VAEOutlierDetector, VAETransformer
from skvae._outlier import _DEFAULT_VAE, _offset

STATISTICS = [
    "elbo_latent",
    "elbo",
    "importance_weighted",
    "reconstruction",
    "reconstruction_error",
]


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    # The networks here are tiny: a thread pool only adds overhead, which is
    # large on a busy machine. Restored for the other test modules.
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


@pytest.fixture(scope="module")
def fitted(planted, small_vae, quiet_fit):
    X, _ = planted
    return quiet_fit(VAEOutlierDetector(vae=small_vae, random_state=0), X)


# ------------------------------------------------- scikit-learn conformance


# The checks train for a few epochs only; the warning saying so is expected.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [VAEOutlierDetector(vae=VAETransformer(hidden_layer_sizes=(8,), max_iter=3))]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# --------------------------------------------------------- planted outliers


@pytest.mark.parametrize("statistic", STATISTICS)
def test_every_statistic_finds_planted_outliers(
    planted, statistic, small_vae, quiet_fit
):
    X, y = planted
    detector = VAEOutlierDetector(vae=small_vae, statistic=statistic, random_state=0)
    scores = quiet_fit(detector, X).score_samples(X)
    # Outliers get low scores: the AUC of -score for "is an outlier" is high.
    assert roc_auc_score(y, -scores) > 0.9


def test_predict_flags_the_planted_outliers(planted, small_vae, quiet_fit):
    X, y = planted
    detector = VAEOutlierDetector(vae=small_vae, contamination=y.mean(), random_state=0)
    labels = quiet_fit(detector, X).predict(X)
    assert set(np.unique(labels)) == {-1, 1}
    # Most flagged rows are planted outliers, most planted outliers flagged.
    assert np.mean(y[labels == -1]) > 0.6
    assert np.mean(labels[y == 1] == -1) > 0.6


# ----------------------------------------------------------- sign conventions


def test_sign_conventions(fitted, planted):
    X, _ = planted
    scores = fitted.score_samples(X)
    decision = fitted.decision_function(X)
    np.testing.assert_allclose(decision, scores - fitted.offset_)
    np.testing.assert_array_equal(fitted.predict(X), np.where(decision < 0, -1, 1))


def test_latent_energy_is_half_the_squared_norm_of_the_code(fitted, planted):
    X, _ = planted
    vae = fitted.vae_
    code = vae.transform(X)
    np.testing.assert_allclose(
        vae.row_statistic(X, "latent_energy", 1), 0.5 * np.sum(code**2, axis=1)
    )


def test_default_statistic_combines_elbo_and_latent_energy(fitted, planted):
    """Each part standardised by its training median and IQR, the code's at 1/4."""
    X, _ = planted
    X_new = X[::7] + 0.3
    vae = fitted.vae_
    parts = []
    for data in (X, X_new):
        elbo = vae.row_statistic(data, "elbo", vae.n_importance_samples)
        parts.append((elbo, 0.5 * np.sum(vae.transform(data) ** 2, axis=1)))
    expected = 0.0
    for (train, new), weight in zip(
        zip(*parts, strict=True), [1.0, -0.25], strict=True
    ):
        q1, median, q3 = np.percentile(train, [25, 50, 75])
        expected = expected + weight * (new - median) / (q3 - q1)
    np.testing.assert_allclose(fitted.score_samples(X_new), expected)


def test_statistic_can_be_changed_after_fit(planted, small_vae, quiet_fit):
    """fit stores what every statistic needs: set_params(statistic=...) then
    score_samples gives what fitting with that statistic gives."""
    X, _ = planted
    fitted = {
        statistic: quiet_fit(
            VAEOutlierDetector(vae=small_vae, statistic=statistic, random_state=0), X
        )
        for statistic in ("elbo", "elbo_latent")
    }
    switched = fitted["elbo"].set_params(statistic="elbo_latent")
    np.testing.assert_allclose(
        switched.score_samples(X), fitted["elbo_latent"].score_samples(X)
    )


def test_importance_weighted_score_is_the_vae_log_likelihood(
    planted, small_vae, quiet_fit
):
    X, _ = planted
    detector = VAEOutlierDetector(
        vae=small_vae, statistic="importance_weighted", random_state=0
    )
    quiet_fit(detector, X)
    np.testing.assert_allclose(
        detector.score_samples(X), detector.vae_.score_samples(X)
    )


def test_reconstruction_error_is_negated(planted, small_vae, quiet_fit):
    """An error is "higher = more abnormal"; score_samples keeps "higher = normal"."""
    X, _ = planted
    detector = VAEOutlierDetector(
        vae=small_vae, statistic="reconstruction_error", random_state=0
    )
    quiet_fit(detector, X)
    error = detector.vae_.row_statistic(X, "reconstruction_error", 1)
    assert np.all(error >= 0)
    np.testing.assert_allclose(detector.score_samples(X), -error)


def test_fit_predict_matches_fit_then_predict(planted, small_vae):
    X, _ = planted
    detector = VAEOutlierDetector(vae=small_vae, contamination=0.1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = detector.fit_predict(X)
    np.testing.assert_array_equal(labels, detector.predict(X))


# -------------------------------------------------------------- contamination


@pytest.mark.parametrize("contamination", [0.01, 0.05, 0.1, 0.25, 0.5])
def test_contamination_fraction_is_respected_on_training_data(
    fitted, planted, contamination
):
    X, _ = planted
    # offset_ depends on the training scores only: reuse the fitted VAE.
    scores = fitted.score_samples(X)
    offset = _offset(scores, contamination)
    n_flagged = np.sum(scores - offset < 0)
    assert n_flagged == int(np.ceil(contamination * (len(X) - 1)))
    assert n_flagged / len(X) == pytest.approx(contamination, abs=1 / len(X))


def test_contamination_fraction_end_to_end(planted, small_vae, quiet_fit):
    X, _ = planted
    detector = VAEOutlierDetector(vae=small_vae, contamination=0.2, random_state=0)
    labels = quiet_fit(detector, X).predict(X)
    assert np.mean(labels == -1) == pytest.approx(0.2, abs=1 / len(X))
    assert detector.offset_ == pytest.approx(
        np.percentile(detector.score_samples(X), 20)
    )


def test_auto_contamination_is_tukeys_lower_fence(fitted, planted):
    X, y = planted
    scores = fitted.score_samples(X)
    q1, q3 = np.percentile(scores, [25, 75])
    assert fitted.offset_ == pytest.approx(q1 - 1.5 * (q3 - q1))
    flagged = fitted.predict(X) == -1
    # The fence flags a few rows, among them most of the planted outliers.
    assert 0 < flagged.mean() < 0.2
    assert flagged[y == 1].mean() > 0.7


def test_offset_ignores_infinitely_unlikely_rows():
    scores = np.r_[-np.inf, -np.inf, np.linspace(-10.0, 0.0, 98)]
    assert np.isfinite(_offset(scores, "auto"))
    offset = _offset(scores, 0.01)
    assert np.isfinite(offset)
    assert np.sum(scores < offset) == 2


# ------------------------------------------------------------ the wrapped VAE


def test_vae_is_cloned_and_random_state_propagated(planted, small_vae, quiet_fit):
    X, _ = planted
    vae = clone(small_vae).set_params(random_state=123)
    detector = quiet_fit(VAEOutlierDetector(vae=vae, random_state=7), X)
    assert not hasattr(vae, "module_")  # the template is left unfitted
    assert detector.vae_ is not vae
    assert detector.vae_.random_state == 7
    again = quiet_fit(VAEOutlierDetector(vae=vae, random_state=7), X)
    np.testing.assert_array_equal(detector.score_samples(X), again.score_samples(X))


def test_vae_random_state_is_kept_without_a_detector_seed(
    planted, small_vae, quiet_fit
):
    X, _ = planted
    vae = clone(small_vae).set_params(random_state=123)
    detector = quiet_fit(VAEOutlierDetector(vae=vae), X)
    assert detector.vae_.random_state == 123


def test_default_vae_configuration(make_planted_outliers, quiet_fit):
    # The default network is small and takes a learning rate for data sets
    # of a few thousand rows, like those of the benchmark.
    X, y = make_planted_outliers(n_inliers=2000, n_outliers=100)
    detector = quiet_fit(VAEOutlierDetector(random_state=0), X)
    params = detector.vae_.get_params()
    expected = {**_DEFAULT_VAE, "n_components": min(8, X.shape[1])}
    assert {key: params[key] for key in _DEFAULT_VAE} == expected
    assert detector.vae_.random_state == 0
    assert roc_auc_score(y, -detector.score_samples(X)) > 0.95


def test_default_latent_size_is_capped_by_the_features(quiet_fit):
    # Eight latent dimensions, but never more than the features: a default
    # fit on two features warns about nothing.
    X = np.random.RandomState(0).normal(size=(300, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        detector = quiet_fit(VAEOutlierDetector(random_state=0), X)
    assert detector.vae_.n_components == 2
    wide = np.random.RandomState(0).normal(size=(300, 12))
    assert quiet_fit(VAEOutlierDetector(random_state=0), wide).vae_.n_components == 8


def test_nested_parameters_and_grid_search(planted, small_vae, quiet_fit):
    X, y = planted
    detector = VAEOutlierDetector(vae=clone(small_vae), random_state=0)
    detector.set_params(vae__n_components=3)
    assert detector.get_params()["vae__n_components"] == 3
    # With labels, GridSearchCV tunes the VAE on ROC AUC; the positive class
    # (+1) is "inlier", the side decision_function points to.
    search = GridSearchCV(
        detector,
        {"vae__n_components": [1, 2]},
        scoring="roc_auc",
        cv=2,
    )
    quiet_fit(search, X, np.where(y == 1, -1, 1))
    assert search.best_estimator_.vae_.n_components in (1, 2)
    assert search.best_score_ > 0.5


def test_float32_and_sparse_input(planted, small_vae, quiet_fit):
    import scipy.sparse as sp

    X, _ = planted
    detector = VAEOutlierDetector(vae=small_vae, random_state=0)
    dense = quiet_fit(detector, X).score_samples(X)
    np.testing.assert_allclose(detector.score_samples(sp.csr_matrix(X)), dense)
    assert detector.score_samples(X.astype(np.float32)).dtype == np.float64


# --------------------------------------------------------------------- errors


def test_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        VAEOutlierDetector().predict(np.zeros((2, 3)))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"statistic": "likelihood"}, "'statistic' parameter"),
        ({"contamination": 0.7}, "'contamination' parameter"),
        ({"contamination": "none"}, "'contamination' parameter"),
        ({"vae": PCA()}, "'vae' parameter .* instance of .*VAETransformer"),
    ],
)
def test_invalid_parameters(small_data, params, message):
    with pytest.raises(ValueError, match=message):
        VAEOutlierDetector(**params).fit(small_data)


def test_feature_count_is_checked(fitted):
    with pytest.raises(ValueError, match=re.escape("X has 5 features")):
        fitted.score_samples(np.zeros((3, 5)))
