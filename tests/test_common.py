"""scikit-learn's own conformance checks, none skipped."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import VAETransformer


# The checks train for a few epochs only; the warning saying so is expected.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        VAETransformer(hidden_layer_sizes=(8,), max_iter=3),
        VAETransformer(
            hidden_layer_sizes=(8,), max_iter=3, early_stopping=True, n_iter_no_change=2
        ),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
