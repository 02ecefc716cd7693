"""Tables of mixed column types: per-column likelihoods, likelihood='auto',
frames in and out."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from skvae import VAETransformer
from skvae._likelihoods import CategoricalLikelihood, MixedLikelihood
from skvae._tabular import infer_kind

QUICK = dict(n_components=2, hidden_layer_sizes=(16,), random_state=0)


def fit(vae, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return vae.fit(X)


@pytest.fixture
def table():
    rng = np.random.RandomState(0)
    n = 300
    return pd.DataFrame(
        {
            "size": rng.normal(10.0, 2.0, n),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
            "label": rng.choice(["a", "b"], n).astype(object),
            "flag": rng.uniform(size=n) > 0.3,
            "count": rng.poisson(30.0, n),
            "year": rng.choice([2019, 2020, 2021], n),
        }
    )


def test_auto_chooses_by_dtype_with_a_documented_rule_for_integers(table):
    kinds = [infer_kind(table[name]) for name in table.columns]
    # a year with 3 values is categorical; counts with many values Poisson
    assert kinds == [
        "gaussian",
        "categorical",
        "categorical",
        "bernoulli",
        "poisson",
        "categorical",
    ]
    assert infer_kind(pd.Series([0, 1, 1, 0])) == "bernoulli"
    assert infer_kind(pd.Series(np.arange(-30, 30))) == "gaussian"
    assert infer_kind(pd.Series(np.arange(1990, 2030))) == "gaussian"
    assert infer_kind(pd.Series(["x", None], dtype="string")) == "categorical"


def test_a_per_column_specification_overrides_auto(table):
    vae = fit(
        VAETransformer(**QUICK, max_iter=2, likelihood={"year": "gaussian"}), table
    )
    assert vae.column_likelihoods_["kinds"][-1] == "gaussian"
    assert vae.column_likelihoods_["levels"][-1] is None
    with pytest.raises(ValueError, match="lists 2 kinds, but X has 6 columns"):
        VAETransformer(likelihood=["gaussian", "poisson"]).fit(table)
    with pytest.raises(ValueError, match="does not have: 'weight'"):
        VAETransformer(likelihood={"weight": "gaussian"}).fit(table)
    with pytest.raises(ValueError, match="must be one of"):
        VAETransformer(likelihood={"size": "beta"}).fit(table)


def test_categorical_only_model_reaches_the_empirical_log_likelihood():
    # Independent categorical columns: the best model is their frequencies,
    # whose log-likelihood per row is sum_j sum_k p_jk log p_jk (in nats).
    rng = np.random.RandomState(0)
    n = 3000
    frame = pd.DataFrame(
        {
            "a": rng.choice(["x", "y", "z"], n, p=[0.6, 0.3, 0.1]),
            "b": rng.choice(["u", "v"], n, p=[0.8, 0.2]),
        }
    ).astype("category")
    vae = fit(VAETransformer(**QUICK, likelihood="auto", learning_rate=1e-2), frame)
    empirical = sum(
        np.log(frame[c].map(frame[c].value_counts(normalize=True)).astype(float)).mean()
        for c in frame
    )
    assert abs(vae.score(frame) - empirical) < 0.02


def test_scores_add_the_columns_terms_in_their_own_units():
    # A Gaussian column independent of a categorical one: the score is the
    # Gaussian log-density (in the column's units) plus the log-frequency.
    rng = np.random.RandomState(1)
    n = 3000
    frame = pd.DataFrame(
        {
            "value": rng.normal(50.0, 7.0, n),
            "group": pd.Categorical(rng.choice(["p", "q"], n, p=[0.7, 0.3])),
        }
    )
    vae = fit(
        VAETransformer(
            **QUICK,
            likelihood="auto",
            learning_rate=1e-2,
            decoder_variance="per_feature",
        ),
        frame,
    )
    expected = stats.norm(50.0, 7.0).logpdf(frame["value"]).mean() + (
        0.7 * np.log(0.7) + 0.3 * np.log(0.3)
    )
    assert abs(vae.score(frame) - expected) < 0.05


def test_frames_come_back_with_their_columns_dtypes_and_levels(table):
    vae = fit(VAETransformer(**QUICK, max_iter=5, likelihood="auto"), table)
    samples, codes = vae.sample(50, random_state=0)
    assert list(samples.columns) == list(table.columns)
    assert isinstance(samples["colour"].dtype, pd.CategoricalDtype)
    assert set(samples["colour"].dropna()) <= {"red", "green", "blue"}
    assert set(samples["label"]) <= {"a", "b"}
    assert samples["flag"].dtype == bool
    assert samples["count"].dtype == table["count"].dtype
    assert samples["year"].dtype == table["year"].dtype  # levels 2019..2021
    assert set(samples["year"]) <= {2019, 2020, 2021}
    assert (samples["count"] >= 0).all()
    decoded = vae.inverse_transform(vae.transform(table))
    assert list(decoded.columns) == list(table.columns)
    assert codes.shape == (50, 2)
    assert list(vae.get_feature_names_out()) == ["vaetransformer0", "vaetransformer1"]


def test_unseen_levels_and_bad_values_are_clear_errors(table):
    vae = fit(VAETransformer(**QUICK, max_iter=2, likelihood="auto"), table)
    new = table.head(3).copy()
    new["label"] = ["a", "b", "c"]
    with pytest.raises(ValueError, match="level 'c', not seen during fit"):
        vae.transform(new)
    with pytest.raises(ValueError, match="Column 'size': likelihood='bernoulli' req"):
        VAETransformer(likelihood={"size": "bernoulli"}).fit(table)
    with pytest.raises(ValueError, match="Column 'size': likelihood='poisson' models"):
        VAETransformer(likelihood={"size": "poisson"}).fit(table)


def test_missing_cells_of_any_type_are_left_out(table):
    holes = table.copy()
    holes.loc[3, "colour"] = np.nan
    holes.loc[4, "label"] = None
    holes.loc[5, "size"] = np.nan
    vae = fit(VAETransformer(**QUICK, max_iter=3, likelihood="auto"), holes)
    assert vae.module_.missing_indicator
    scores = vae.score_samples(holes)
    assert np.isfinite(scores).all()
    # Masking a column is leaving its term out of the likelihood.
    model = vae.module_.double().cpu()
    x = torch.tensor(vae._validate_input(holes.head(8), reset=False))
    output = model.decode(torch.randn(8, 2, dtype=torch.float64))
    terms = model.likelihood.log_prob_terms(torch.nan_to_num(x), output)
    masked = x.clone()
    masked[:, 1] = torch.nan
    others = [0, 2, 3, 4, 5]
    expected = torch.where(torch.isnan(x[:, others]), 0.0, terms[:, others]).sum(-1)
    torch.testing.assert_close(model.likelihood.log_prob(masked, output), expected)


def test_mixed_likelihood_orders_terms_by_column():
    likelihood = MixedLikelihood(
        3, ["categorical", "gaussian", "categorical"], [3, 0, 2], min_variance=1e-3
    ).double()
    assert likelihood.n_outputs == 3 + 2 + 2
    assert likelihood.n_encoder_inputs == 3 + 1 + 2
    x = torch.tensor([[2.0, 0.5, 1.0]], dtype=torch.float64)
    output = torch.randn(1, likelihood.n_outputs, dtype=torch.float64)
    terms = likelihood.log_prob_terms(x, output)
    categorical = CategoricalLikelihood(2, [3, 2]).double()
    # the categorical group's outputs come first (kinds in order of first use)
    expected = categorical.log_prob_terms(x[:, [0, 2]], output[:, :5])
    torch.testing.assert_close(terms[:, [0, 2]], expected)


def test_a_per_column_model_pickles(table):
    vae = fit(VAETransformer(**QUICK, max_iter=2, likelihood="auto"), table)
    loaded = pickle.loads(pickle.dumps(vae))
    # A model loads on the CPU: the same numbers wherever it was fitted, and
    # bit for bit when it was fitted there.
    exact = vae.device_ == "cpu"
    np.testing.assert_allclose(
        loaded.score_samples(table), vae.score_samples(table), rtol=0 if exact else 1e-5
    )


def test_imputer_fills_categories_with_the_most_probable_level():
    # 'kind' is determined by the sign of 'value': a good imputation of a
    # missing 'kind' reads it off 'value', and is one of the levels.
    from skvae import VAEImputer

    rng = np.random.RandomState(0)
    value = rng.normal(size=1000)
    frame = pd.DataFrame(
        {
            "value": value,
            "other": value + 0.1 * rng.normal(size=1000),
            "kind": pd.Categorical(np.where(value > 0, "up", "down")),
        }
    )
    holes = frame.copy()
    hidden = rng.uniform(size=1000) < 0.2
    holes.loc[hidden, "kind"] = np.nan
    imputer = VAEImputer(VAETransformer(**QUICK, likelihood="auto"), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        filled = imputer.fit_transform(holes)
    assert isinstance(filled, pd.DataFrame)
    assert isinstance(filled["kind"].dtype, pd.CategoricalDtype)
    assert not filled["kind"].isna().any()
    accuracy = (filled.loc[hidden, "kind"] == frame.loc[hidden, "kind"]).mean()
    assert accuracy > 0.9
    pd.testing.assert_frame_equal(filled[~hidden], frame[~hidden], check_dtype=False)


def test_a_per_column_model_saves_with_skops_trusting_public_names(table):
    sio = pytest.importorskip("skops.io")
    vae = fit(VAETransformer(**QUICK, max_iter=2, likelihood="auto"), table)
    blob = sio.dumps(vae)
    assert sio.get_untrusted_types(data=blob) == ["skvae.VAETransformer"]
    loaded = sio.loads(blob, trusted=["skvae.VAETransformer"])
    np.testing.assert_array_equal(loaded.score_samples(table), vae.score_samples(table))


WITHOUT_PANDAS = """
import sys
sys.modules["pandas"] = None  # every import of pandas now fails
import numpy as np
import skvae
X = np.random.RandomState(0).normal(size=(40, 3))
X[:, 2] = X[:, 2] > 0
small = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
for likelihood in ("gaussian", "auto", ["gaussian", "gaussian", "bernoulli"]):
    vae = skvae.VAETransformer(likelihood=likelihood, **small).fit(X)
    assert np.isfinite(vae.score(X))
gaps = X.copy()
gaps[::5, 0] = np.nan
imputer = skvae.VAEImputer(skvae.VAETransformer(**small))
assert not np.isnan(imputer.fit_transform(gaps)).any()
skvae.VAEOutlierDetector(vae=skvae.VAETransformer(**small)).fit(X).predict(X)
print("fitted without pandas")
"""


def test_skvae_imports_and_fits_arrays_without_pandas():
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", WITHOUT_PANDAS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "fitted without pandas" in run.stdout


def test_a_fitted_model_reads_data_with_its_own_likelihood(table):
    vae = fit(VAETransformer(**QUICK, max_iter=2, likelihood="auto"), table)
    scores = vae.score_samples(table)
    vae.set_params(likelihood="gaussian")  # not applied until the next fit
    np.testing.assert_array_equal(vae.score_samples(table), scores)
    assert isinstance(vae.inverse_transform(vae.transform(table)), pd.DataFrame)
    numeric = table[["size"]].to_numpy()
    fit(vae, numeric)  # the refit forgets the table's columns
    assert not hasattr(vae, "column_likelihoods_")
    assert isinstance(vae.inverse_transform(vae.transform(numeric)), np.ndarray)
