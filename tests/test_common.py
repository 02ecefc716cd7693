"""scikit-learn's own conformance checks, none skipped."""

import ast
import inspect
import re

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import VAEImputer, VAEOutlierDetector, VAESynthesizer, VAETransformer


# The checks train for a few epochs only; the warning saying so is expected.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        VAETransformer(hidden_layer_sizes=(8,), max_iter=3),
        VAETransformer(
            hidden_layer_sizes=(8,), max_iter=3, early_stopping=True, n_iter_no_change=2
        ),
        VAESynthesizer(
            VAETransformer(n_components=1, hidden_layer_sizes=(4,), max_iter=2)
        ),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _documented_defaults(estimator_class):
    """{parameter: default} as the class docstring's Parameters section says."""
    docstring = inspect.getdoc(estimator_class)
    parameters = docstring.split("Parameters\n----------\n")[1].split("\n\n\n")[0]
    parameters = parameters.split("Attributes\n----------")[0]
    # "name : type, default=value" (the type may wrap onto a second line).
    pattern = re.compile(r"^(\w+) : [^\n]*?(?:\n\s+[^\n]*?)?default=([^\n]+)$", re.M)
    return {name: value.strip() for name, value in pattern.findall(parameters)}


@pytest.mark.parametrize(
    "estimator_class",
    [VAETransformer, VAEOutlierDetector, VAEImputer, VAESynthesizer],
)
def test_documented_defaults_are_the_real_ones(estimator_class):
    documented = _documented_defaults(estimator_class)
    signature = inspect.signature(estimator_class).parameters
    assert set(documented) == set(signature)
    for name, parameter in signature.items():
        value = documented[name]
        if value in ("None", "True", "False") or value[0] in "0123456789-(":
            value = ast.literal_eval(value)
        else:
            value = value.strip("'\"")
        assert value == parameter.default, name
