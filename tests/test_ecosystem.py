"""skvae inside the rest of the ecosystem: composition, cloning, repr, Dask."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skvae import VAETransformer

FAST = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def frame():
    rng = np.random.RandomState(0)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, 80),
            "income": rng.lognormal(10, 1, 80),
            "score": rng.normal(size=80),
            "city": rng.choice(["Oslo", "Lima"], 80),
        }
    )


def test_column_transformer_with_pandas_output(frame):
    numeric = ["age", "income", "score"]
    columns = ColumnTransformer(
        [("vae", VAETransformer(**FAST), numeric)], remainder="passthrough"
    ).set_output(transform="pandas")
    out = columns.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [
        "vae__vaetransformer0",
        "vae__vaetransformer1",
        "remainder__city",
    ]
    np.testing.assert_array_equal(out.index, frame.index)


def test_function_transformer_and_pipeline_composition(frame):
    X = frame[["age", "income", "score"]]
    pipeline = make_pipeline(
        FunctionTransformer(np.cbrt, feature_names_out="one-to-one"),
        StandardScaler(),
        VAETransformer(n_components=3, **FAST),
    ).set_output(transform="pandas")
    Z = pipeline.fit_transform(X)
    assert Z.shape == (80, 3) and isinstance(Z, pd.DataFrame)
    assert np.isfinite(pipeline.score(X))  # the last step's log-likelihood
    assert list(pipeline.get_feature_names_out()) == [
        f"vaetransformer{i}" for i in range(3)
    ]


def test_clone_inside_cross_validate(digits_split):
    X, _, y, _ = digits_split
    model = make_pipeline(VAETransformer(n_components=8, **FAST), LogisticRegression())
    results = cross_validate(model, X[:300], y[:300], cv=3, return_estimator=True)
    assert results["test_score"].shape == (3,)
    fitted = [est[0] for est in results["estimator"]]
    assert len({id(est) for est in fitted}) == 3
    assert not hasattr(model[0], "module_")  # the template stays unfitted
    unfitted = clone(fitted[0])
    assert unfitted.get_params() == model[0].get_params()


def test_html_repr_for_notebooks():
    html = VAETransformer(n_components=4)._repr_html_()
    assert "VAETransformer" in html and "n_components" in html


def test_grid_search_n_jobs_gives_the_same_scores(digits_split):
    X = digits_split[0][:300]
    grid = {"n_components": [2, 4]}
    scores = []
    for n_jobs in (1, 2):
        search = GridSearchCV(VAETransformer(**FAST), grid, cv=2, n_jobs=n_jobs)
        scores.append(search.fit(X).cv_results_["mean_test_score"])
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-5)


@pytest.mark.integration  # starts a local dask cluster: run in CI
def test_grid_search_on_a_dask_cluster(digits_split):
    distributed = pytest.importorskip("distributed")
    import joblib

    X = digits_split[0][:300]
    grid = {"n_components": [2, 4]}
    local = GridSearchCV(VAETransformer(**FAST), grid, cv=2).fit(X)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        with joblib.parallel_backend("dask"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                remote = GridSearchCV(VAETransformer(**FAST), grid, cv=2).fit(X)
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"],
        local.cv_results_["mean_test_score"],
        rtol=1e-5,
    )
