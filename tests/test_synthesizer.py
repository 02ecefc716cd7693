"""VAESynthesizer: synthetic tables with the training table's columns,
dtypes, ranges, precision, gaps and dependence; conditional draws; the odd
columns real tables have."""

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skvae import VAESynthesizer, VAETransformer

# A small network trained briefly: enough for tolerances of a few percent.
SMALL = dict(n_components=2, hidden_layer_sizes=(32,), max_iter=150)
LINEAR = dict(
    n_components=1,
    hidden_layer_sizes=(),
    decoder_variance="per_feature",
    tail_mass=0.0,
    max_iter=300,
    learning_rate=1e-2,
)


def fitted(table, vae_params=SMALL, **params):
    synthesizer = VAESynthesizer(VAETransformer(**vae_params), random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short fits warn of max_iter
        return synthesizer.fit(table)


def mixed_table(n=600, seed=0):
    """A known mixed model: a level, a number that depends on it, an integer
    count, a price in cents and a flag."""
    rng = np.random.RandomState(seed)
    level = rng.choice(["a", "b"], n, p=[0.3, 0.7])
    means = np.where(level == "a", -2.0, 2.0)
    return pd.DataFrame(
        {
            "level": level,
            "x": means + rng.normal(size=n),
            "count": rng.poisson(np.where(level == "a", 2, 8)),
            "price": rng.uniform(5, 20, n).round(2),
            "flag": rng.uniform(size=n) < 0.4,
        }
    )


@pytest.fixture(scope="module")
def table():
    return mixed_table()


@pytest.fixture(scope="module")
def synthesizer(table):
    return fitted(table)


def test_marginals_and_dependence_of_a_known_mixed_model(table, synthesizer):
    fake = synthesizer.sample(3000)
    # The level's frequencies, within 0.05 of the true 0.3 / 0.7.
    assert abs((fake["level"] == "a").mean() - 0.3) < 0.05
    # The number's dependence on the level: its mean given each level (drawn
    # independently of the level, both would be about 0.8).
    for level, mean in (("a", -2.0), ("b", 2.0)):
        assert abs(fake.loc[fake["level"] == level, "x"].mean() - mean) < 0.5
    # And the count's: 2 given a, 8 given b.
    for level, mean in (("a", 2.0), ("b", 8.0)):
        assert abs(fake.loc[fake["level"] == level, "count"].mean() - mean) < 1.0
    assert abs(fake["flag"].mean() - table["flag"].mean()) < 0.06


def test_columns_dtypes_ranges_and_precision_are_the_tables(table, synthesizer):
    fake = synthesizer.sample(2000)
    assert list(fake.columns) == list(table.columns)
    assert (fake.dtypes == table.dtypes).all()
    for column in ("x", "count", "price"):
        assert fake[column].min() >= table[column].min()
        assert fake[column].max() <= table[column].max()
    # Cents stay cents; counts are integers of the same dtype.
    np.testing.assert_array_equal(fake["price"], fake["price"].round(2))
    assert fake["price"].round(1).ne(fake["price"]).any()  # not coarser either
    assert fake["count"].dtype == table["count"].dtype


def test_the_same_random_state_gives_the_same_table(table, synthesizer):
    again = fitted(table)
    pd.testing.assert_frame_equal(synthesizer.sample(50), again.sample(50))
    pd.testing.assert_frame_equal(synthesizer.sample(50), synthesizer.sample(50))
    other = synthesizer.sample(50, random_state=1)
    assert not other.equals(synthesizer.sample(50))


def test_missing_values_come_back_at_their_rates_and_together():
    rng = np.random.RandomState(1)
    frame = mixed_table(800, seed=1)
    together = rng.uniform(size=len(frame)) < 0.2  # x and count missing together
    frame["x"] = frame["x"].mask(together)
    frame["count"] = frame["count"].astype("Int64").mask(together)
    frame["level"] = frame["level"].mask(rng.uniform(size=len(frame)) < 0.1)
    synthesizer = fitted(frame)
    fake = synthesizer.sample(3000)
    assert abs(fake["x"].isna().mean() - 0.2) < 0.04
    assert abs(fake["level"].isna().mean() - 0.1) < 0.04
    # Co-occurrence: where x is missing, so is the count (drawn independently,
    # they would agree on about 68% of the rows).
    assert (fake["x"].isna() == fake["count"].isna()).mean() > 0.9
    assert fake["price"].notna().all()
    dropped = fitted(frame, missing_values="drop").sample(500)
    assert dropped.notna().all().all()


def test_conditional_draws_keep_their_conditions(table, synthesizer):
    fixed = synthesizer.sample(400, conditions={"level": "a"})
    assert (fixed["level"] == "a").all()
    # Drawn from the model's p(rest | level = a): the number's mean given a
    # is that of the model's own rows with level a (a small network puts it
    # near -1.6 where the truth is -2; drawn regardless of the level, it
    # would be about 0.8).
    free = synthesizer.sample(3000)
    assert abs(fixed["x"].mean() - free.loc[free["level"] == "a", "x"].mean()) < 0.25
    assert fixed["x"].mean() < -1.0
    assert fixed["x"].nunique() > 300  # independent draws, not copies
    rows = pd.DataFrame({"level": ["a", "b", "b"], "flag": [True, False, True]})
    drawn = synthesizer.sample(3, conditions=rows)
    pd.testing.assert_frame_equal(
        drawn[["level", "flag"]], rows.astype(drawn[["level", "flag"]].dtypes)
    )


def _linear_gaussian(vae):
    """(loc, cov) of the data under a fitted linear-Gaussian VAE."""
    model = vae.module_
    weight = model.decoder.output_head.weight.detach().double().cpu().numpy()
    bias = model.decoder.output_head.bias.detach().double().cpu().numpy()
    noise = model.likelihood.groups[0].variance().detach().double().cpu().numpy()
    scale = vae.input_scale_
    loadings = scale[:, None] * weight
    return vae.input_mean_ + scale * bias, loadings @ loadings.T + np.diag(
        noise * scale**2
    )


def test_a_conditional_draw_matches_the_closed_form_of_a_gaussian_model():
    rng = np.random.RandomState(0)
    z = rng.normal(size=1500)
    frame = pd.DataFrame(
        {
            "u": 3.0 * z + rng.normal(size=1500),
            "v": 10 - z + 0.5 * rng.normal(size=1500),
        }
    )
    synthesizer = fitted(frame, LINEAR, n_importance_samples=300)
    loc, cov = _linear_gaussian(synthesizer.vae_)
    given = 4.0
    mean = loc[1] + cov[1, 0] / cov[0, 0] * (given - loc[0])
    variance = cov[1, 1] - cov[1, 0] ** 2 / cov[0, 0]
    drawn = synthesizer.sample(3000, conditions={"u": given})["v"]
    assert (drawn.index == np.arange(3000)).all()
    assert abs(drawn.mean() - mean) < 0.05
    assert abs(drawn.var() - variance) < 0.1 * variance


def test_the_odd_columns_of_real_tables_are_accepted():
    n = 300
    rng = np.random.RandomState(2)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "region": ["north"] * n,  # one level
            "rate": 0.25,  # a constant number
            "size": pd.Categorical(
                rng.choice(["S", "M"], n), categories=["S", "M", "L"]
            ),
            "member": rng.uniform(size=n) < 0.5,
            "day": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.randint(0, 365, n), unit="D"),
            "wave": pd.to_datetime(rng.choice(["2020-01-01", "2022-01-01"], n)),
        }
    )
    synthesizer = fitted(frame)
    fake = synthesizer.sample(400)
    assert (fake.dtypes == frame.dtypes).all()
    assert (fake["region"] == "north").all() and (fake["rate"] == 0.25).all()
    assert list(fake["size"].cat.categories) == ["S", "M", "L"]
    assert set(fake["size"]) <= {"S", "M"}
    assert fake["day"].between(frame["day"].min(), frame["day"].max()).all()
    assert (fake["day"] == fake["day"].dt.normalize()).all()  # still whole days
    assert set(fake["wave"]) <= set(frame["wave"])  # the values it takes
    # The one-level column is modelled exactly: probability 1.
    kinds = synthesizer.vae_.column_likelihoods_["kinds"]
    kinds = dict(zip(frame.columns, kinds, strict=False))  # indicators last
    assert kinds["region"] == kinds["rate"] == "constant"


def test_free_text_and_identifiers_are_named_in_the_error():
    frame = pd.DataFrame(
        {"x": np.arange(200.0), "comment": [f"note {i}" for i in range(200)]}
    )
    with pytest.raises(ValueError, match="Column 'comment' looks like free text"):
        VAESynthesizer().fit(frame)


def test_constant_columns_have_log_probability_zero_in_the_transformer():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {"x": rng.normal(size=200), "region": ["north"] * 200, "rate": 3.5}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vae = VAETransformer(likelihood="auto", max_iter=5, random_state=0).fit(frame)
    assert vae.column_likelihoods_["kinds"] == ["gaussian", "constant", "constant"]
    # The model sees a constant column as 0 (its own value as the centre):
    # log-probability 0 there, whatever z, and -inf anywhere else.
    # A copy, read on the host in float64 (the model stays where it is).
    likelihood = copy.deepcopy(vae.module_.likelihood).cpu().double()
    output = torch.randn((4, likelihood.n_outputs), dtype=torch.float64)
    at_value = torch.tensor([[0.5, 0.0, 0.0]], dtype=torch.float64)
    elsewhere = torch.tensor([[0.5, 0.0, 0.1]], dtype=torch.float64)
    assert (likelihood.log_prob_terms(at_value, output)[:, 1:] == 0).all()
    assert (likelihood.log_prob_terms(elsewhere, output)[:, 2] == -np.inf).all()
    assert np.all(vae.score_samples(frame.iloc[:3].assign(rate=4.0)) == -np.inf)
    assert np.all(np.isfinite(vae.score_samples(frame.iloc[:3])))
    with pytest.raises(ValueError, match="level 'south', not seen"):
        vae.score_samples(frame.iloc[:3].assign(region="south"))


@pytest.mark.parametrize("with_gaps", [False, True])
def test_a_constant_column_is_centred_on_its_value_exactly(with_gaps):
    # Copies of 0.3 sum to a number that, divided by their count, is not
    # 0.3: centred on that mean, every training row would have density 0
    # under the 'constant' likelihood and training would diverge at once.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"x": rng.normal(size=200), "rate": 0.3})
    if with_gaps:
        frame.loc[::5, "x"] = np.nan
        frame.loc[3::5, "rate"] = np.nan
    observed = frame["rate"].dropna().to_numpy()
    assert observed.sum() / len(observed) != 0.3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vae = VAETransformer(likelihood="auto", max_iter=5, random_state=0).fit(frame)
    assert vae.column_likelihoods_["kinds"] == ["gaussian", "constant"]
    assert vae.input_mean_[1] == 0.3
    assert np.all(np.isfinite(vae.score_samples(frame)))


def test_a_condition_on_a_constant_column_at_another_value_is_uninformative():
    # The model gives the condition density 0 whatever z, which made every
    # importance weight 0 and torch's multinomial raise on NaN; a constant
    # column says nothing about the others, so they are drawn as without it.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {"a": rng.normal(size=300), "b": rng.normal(size=300), "c": 3.0}
    )
    synthesizer = fitted(frame)
    drawn = synthesizer.sample(50, conditions={"c": 4.0}, random_state=0)
    assert (drawn["c"] == 4.0).all()
    assert np.isfinite(drawn[["a", "b"]].to_numpy()).all()


def test_scikit_learn_conventions(table, synthesizer):
    assert synthesizer.n_features_in_ == table.shape[1]
    assert list(synthesizer.feature_names_in_) == list(table.columns)
    restored = pickle.loads(pickle.dumps(synthesizer))
    pd.testing.assert_frame_equal(restored.sample(20), synthesizer.sample(20))
    assert clone(synthesizer).get_params()["random_state"] == 0
    with pytest.raises(NotFittedError):
        VAESynthesizer().sample(3)
    with pytest.raises(ValueError, match="columns the synthesizer was not fitted on"):
        synthesizer.sample(3, conditions={"nope": 1})
    with pytest.raises(ValueError, match="level 'c', not seen"):
        synthesizer.sample(3, conditions={"level": "c"})


def test_an_array_in_gives_an_array_out():
    X = np.random.RandomState(0).normal(size=(200, 3)).round(1)
    synthesizer = fitted(X)
    fake = synthesizer.sample(10)
    assert isinstance(fake, np.ndarray) and fake.shape == (10, 3)
    np.testing.assert_array_equal(fake, np.round(fake.astype(float), 1))


def test_a_frame_with_any_index_and_clashing_names():
    frame = mixed_table(300)
    frame.index = np.random.RandomState(0).permutation(1000)[:300]  # not 0..n-1
    frame.loc[frame.index[:60], "x"] = np.nan
    frame["x__missing"] = 1.5  # the name an indicator of x's gaps would take
    fake = fitted(frame).sample(1000)
    assert list(fake.columns) == list(frame.columns)
    assert (fake["x__missing"] == 1.5).all()
    assert 0.1 < fake["x"].isna().mean() < 0.3  # the real share is 0.2


def test_counts_are_modelled_as_numbers_unless_the_vae_says_otherwise(
    table, synthesizer
):
    kinds = dict(
        zip(table.columns, synthesizer.vae_.column_likelihoods_["kinds"], strict=True)
    )
    assert kinds["count"] == "gaussian"  # 'auto' alone would say 'poisson'
    own = fitted(table, {**SMALL, "likelihood": "auto"})
    assert own.vae_.column_likelihoods_["kinds"][2] == "poisson"
