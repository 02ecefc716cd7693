"""PyODVAEDetector: PyOD's conventions, and PyOD's combination tools on it.

Skipped where PyOD (and, for its combination tools, combo) is not installed.
"""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

pytest.importorskip("pyod")

from skvae import PyODVAEDetector, VAEOutlierDetector  # noqa: E402


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
