"""PyODVAEDetector: PyOD's conventions, and PyOD's combination tools on it.

Skipped where PyOD (and, for its combination tools, combo) is not installed.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score

pytest.importorskip("pyod")

from skvae import PyODVAEDetector, VAEOutlierDetector, VAETransformer  # noqa: E402


@pytest.fixture(scope="module")
def fitted(planted, small_vae):
    X, y = planted
    return PyODVAEDetector(small_vae, contamination=y.mean(), random_state=0).fit(X)


def test_scores_are_abnormality_and_labels_are_zero_one(planted, fitted):
    X, y = planted
    # Higher = more abnormal: PyOD's evaluation reads the AUC the right way up.
    assert roc_auc_score(y, fitted.decision_scores_) > 0.9
    assert roc_auc_score(y, fitted.decision_function(X)) > 0.9
    assert set(np.unique(fitted.labels_)) == {0, 1}
    assert fitted.labels_.mean() == pytest.approx(y.mean(), abs=0.01)
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
    np.testing.assert_array_equal(
        fitted.labels_, (fitted.decision_scores_ > fitted.threshold_).astype(int)
    )


def test_scores_are_the_negated_scikit_learn_scores(planted, fitted, small_vae):
    X, _ = planted
    sklearn_detector = VAEOutlierDetector(small_vae, random_state=0).fit(X)
    np.testing.assert_allclose(
        fitted.decision_function(X), -sklearn_detector.score_samples(X)
    )


def test_predict_proba_follows_pyod(planted, fitted):
    X, y = planted
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(y, proba[:, 1]) > 0.9


def test_pyod_combination_tools_accept_it(planted, small_vae):
    pytest.importorskip("combo")
    from pyod.models.combination import average
    from pyod.models.feature_bagging import FeatureBagging
    from pyod.models.iforest import IForest
    from pyod.models.lscp import LSCP
    from pyod.utils.utility import standardizer

    X, y = planted
    detectors = [
        PyODVAEDetector(small_vae, random_state=seed).fit(X) for seed in (0, 1)
    ]
    scores = np.column_stack([d.decision_scores_ for d in detectors])
    assert roc_auc_score(y, average(standardizer(scores))) > 0.9

    lscp = LSCP([PyODVAEDetector(small_vae, random_state=0), IForest(random_state=0)])
    assert roc_auc_score(y, lscp.fit(X).decision_scores_) > 0.8

    bagging = FeatureBagging(
        PyODVAEDetector(small_vae), n_estimators=2, random_state=0
    ).fit(X)
    assert set(np.unique(bagging.labels_)) == {0, 1}


def test_data_frame_column_names_are_kept(planted):
    # PyOD's issue #540: a detector fitted on a DataFrame must score a
    # DataFrame without "X has feature names, but ... was fitted without
    # feature names".
    pd = pytest.importorskip("pandas")
    X, _ = planted
    frame = pd.DataFrame(X[:100], columns=[f"x{i}" for i in range(X.shape[1])])
    vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=5 on purpose
        detector = PyODVAEDetector(vae, random_state=0).fit(frame)
    np.testing.assert_array_equal(detector.detector_.feature_names_in_, frame.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = detector.decision_function(frame)
        labels = detector.predict(frame)
    np.testing.assert_allclose(scores, detector.decision_scores_)
    np.testing.assert_array_equal(labels, detector.labels_)


def test_default_detector_on_pyod_data_warns_nothing():
    from pyod.utils.data import generate_data

    X_train, X_test, _, _ = generate_data(
        n_train=200, n_test=50, n_features=2, contamination=0.1, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detector = PyODVAEDetector().fit(X_train)
        detector.decision_function(X_test)
        detector.predict(X_test)


def test_skops_trusts_only_public_skvae_names(planted, fitted):
    # The Integrations page lists the types a skops file of it asks to trust.
    sio = pytest.importorskip("skops.io")
    X, _ = planted
    data = sio.dumps(fitted)
    trusted = [
        "skvae.PyODVAEDetector",
        "skvae.VAEOutlierDetector",
        "skvae.VAETransformer",
    ]
    assert sorted(sio.get_untrusted_types(data=data)) == trusted
    loaded = sio.loads(data, trusted=trusted)
    np.testing.assert_array_equal(
        loaded.decision_function(X), fitted.decision_function(X)
    )
