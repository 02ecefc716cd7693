"""Missing values (NaN): training and scoring on the observed entries, and
VAEImputer."""

import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, SimpleImputer
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import VAEImputer, VAETransformer
from skvae._likelihoods import LIKELIHOODS
from skvae._objectives import conditional_mean
from skvae._torch_utils import standardize

# Factor analysis exactly: no background part in the likelihood.
LINEAR = dict(
    n_components=2,
    hidden_layer_sizes=(),
    decoder_variance="per_feature",
    tail_mass=0.0,
)


def with_missing(X, fraction, seed=0):
    """A copy of X with about ``fraction`` of its cells NaN, none of its rows
    all NaN; and the mask of those cells."""
    mask = np.random.RandomState(seed).uniform(size=X.shape) < fraction
    mask[mask.all(axis=1), 0] = False
    missing = X.copy()
    missing[mask] = np.nan
    return missing, mask


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
def test_a_missing_value_contributes_nothing_to_log_prob(name):
    settings = dict(
        min_variance=1e-3,
        decoder_variance="per_point",
        n_levels=[2, 2, 2],
        column_kinds=["gaussian", "categorical", "bernoulli"],
    )
    likelihood = LIKELIHOODS[name].build(3, **settings).double()
    x = torch.tensor([[0.2, 1.0, 0.0], [1.0, 0.0, 1.0]], dtype=torch.float64)
    output = torch.randn(2, likelihood.n_outputs, dtype=torch.float64)
    terms = likelihood.log_prob_terms(x, output)
    x_missing = x.clone()
    x_missing[0, 1] = torch.nan
    got = likelihood.log_prob(x_missing, output)
    # Exactly the sum of the observed features' terms; no NaN anywhere.
    assert got[0] == terms[0, [0, 2]].sum()
    assert got[1] == terms[1].sum()
    if not likelihood.n_outputs:  # a constant column reads no decoder output
        return
    output.requires_grad_(True)
    likelihood.log_prob(x_missing, output).sum().backward()
    assert torch.isfinite(output.grad).all()


def test_complete_rows_score_the_same_through_the_missing_value_path(
    factor_analysis_data, quiet_fit
):
    # A model trained with missing values scores complete rows with the
    # same code as incomplete ones: a complete row scores the same alone and
    # next to incomplete rows. (Up to the last bit: the matrix products of a
    # block of 20 rows and of one of 40 may round differently, with or
    # without missing values; on the factor-analysis data 5 of the block
    # sizes 1 to 69 change some row's score by about 1e-15.)
    X_train, X_test = factor_analysis_data
    vae = quiet_fit(
        VAETransformer(max_iter=5, random_state=0), with_missing(X_train, 0.2)[0]
    )
    complete = vae.score_samples(X_test[:20])
    mixed, _ = with_missing(X_test[:40], 0.3, seed=1)
    mixed[:20] = X_test[:20]
    np.testing.assert_allclose(vae.score_samples(mixed)[:20], complete, rtol=1e-12)


def test_scores_of_incomplete_rows_are_marginal_likelihoods(factor_analysis_data):
    # A linear-Gaussian VAE is factor analysis, whose marginal of any subset
    # of features is Gaussian in closed form: the score of a row with a
    # missing feature must be close to that marginal log-density.
    X_train, X_test = factor_analysis_data
    vae = VAETransformer(**LINEAR, max_iter=400, learning_rate=1e-2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vae.fit(X_train)
    mean = vae.input_mean_
    model = vae.module_.double().cpu()  # read on the host, whatever the device
    weight = model.decoder.output_head.weight.detach().numpy()  # (features, 2)
    bias = model.decoder.output_head.bias.detach().numpy()
    noise = model.likelihood.variance().detach().numpy()
    scale = vae.input_scale_
    loc = mean + scale * bias
    cov = (scale[:, None] * weight) @ (scale[:, None] * weight).T + np.diag(
        noise * scale**2
    )
    from scipy import stats

    observed = np.arange(X_test.shape[1]) != 3
    rows = X_test[:200].copy()
    rows[:, 3] = np.nan
    exact = stats.multivariate_normal(
        loc[observed], cov[np.ix_(observed, observed)]
    ).logpdf(rows[:, observed])
    # The encoder never saw a missing feature (it reads it as 0), so its
    # posterior for these rows is off: the bound lies below the marginal and
    # closes on it as the draws grow (a wrong marginal, say one that kept
    # the missing feature's term, would be nats away).
    gaps = []
    for n_draws in (64, 2048):
        vae.set_params(n_importance_samples=n_draws)
        gaps.append(exact.mean() - vae.score_samples(rows).mean())
    assert -0.02 < gaps[1] < min(gaps[0], 0.1)
    # and leaving the feature out costs what its conditional density was worth
    assert vae.score_samples(rows).mean() > vae.score_samples(X_test[:200]).mean()


def test_training_with_missing_values_uses_a_missing_indicator(small_data, quiet_fit):
    missing, _ = with_missing(small_data, 0.2)
    vae = quiet_fit(VAETransformer(max_iter=2, random_state=0), missing)
    assert vae.module_.missing_indicator
    assert vae.module_.encoder.body[0].in_features == 2 * small_data.shape[1]
    assert np.all(np.isfinite(vae.transform(missing)))
    assert np.all(np.isfinite(vae.score_samples(missing)))
    complete = quiet_fit(VAETransformer(max_iter=2, random_state=0), small_data)
    assert not complete.module_.missing_indicator
    # A model fitted on complete data still takes incomplete rows.
    assert np.all(np.isfinite(complete.score_samples(missing)))


def test_rows_and_columns_with_nothing_observed_are_errors(small_data, fitted_small):
    X = small_data.copy()
    X[[2, 5]] = np.nan
    with pytest.raises(
        ValueError, match=r"Row\(s\) \[2, 5\] of X have no observed value"
    ):
        VAETransformer(max_iter=1).fit(X)
    with pytest.raises(ValueError, match="no observed value"):
        fitted_small.score_samples(X)
    X = small_data.copy()
    X[:, 1] = np.nan
    with pytest.raises(ValueError, match=r"Feature\(s\) \[1\] of X have no observed"):
        VAETransformer(max_iter=1).fit(X)


@pytest.fixture
def fitted_small(small_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return VAETransformer(max_iter=2, random_state=0).fit(small_data)


def test_pandas_missing_values_are_accepted(small_data, quiet_fit):
    frame = pd.DataFrame(small_data, columns=list("abcde")).astype("Float64")
    frame.iloc[3, 2] = pd.NA
    vae = quiet_fit(VAETransformer(max_iter=2, random_state=0), frame)
    assert np.isfinite(vae.score_samples(frame)).all()


# ---------------------------------------------------------------- imputer


def test_imputer_keeps_observed_values_and_fills_the_rest(small_data, quiet_fit):
    missing, mask = with_missing(small_data, 0.25)
    before = missing.copy()
    imputer = VAEImputer(VAETransformer(max_iter=3), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        filled = imputer.fit_transform(missing)
    np.testing.assert_array_equal(missing, before)  # the caller's array
    np.testing.assert_array_equal(filled[~mask], small_data[~mask])
    assert not np.isnan(filled).any()


def test_default_imputer_fits_the_documented_vaes():
    # The docstring's promise for vae=None: three models with these
    # settings, and n_components the smaller of 16 and the number of features.
    X, _ = with_missing(np.random.RandomState(0).normal(size=(40, 3)), 0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer = VAEImputer(random_state=0).fit(X)
    assert len(imputer.vaes_) == 3 and imputer.vae_ is imputer.vaes_[0]
    networks = []
    for vae in imputer.vaes_:
        params = vae.get_params()
        assert params["likelihood"] == "auto"
        assert params["n_mc_samples"] == 10
        assert params["batch_size"] == 256
        assert params["n_iter_no_change"] == 30
        assert params["n_threads"] == 1
        assert params["tail_mass"] == 0.0
        assert params["n_components"] == 3
        networks.append((params["hidden_layer_sizes"], params["decoder_variance"]))
    assert networks == [
        ((256, 128), "per_point"),
        ((256, 128), "per_feature"),
        ((64,), "per_feature"),
    ]
    assert not np.isnan(imputer.transform(X)).any()


def test_an_imputer_of_several_vaes_averages_their_imputations(quiet_fit):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=200),
            "level": rng.choice(["a", "b", "c"], 200),
            "y": rng.normal(size=200),
        }
    )
    frame[["x", "level"]] = frame[["x", "level"]].mask(rng.uniform(size=(200, 2)) < 0.2)
    members = [
        VAETransformer(likelihood="auto", hidden_layer_sizes=(8,), max_iter=3),
        VAETransformer(likelihood="auto", hidden_layer_sizes=(16,), max_iter=3),
        VAETransformer(likelihood="auto", n_components=1, max_iter=3),
    ]
    imputer = quiet_fit(VAEImputer(members, random_state=0), frame)
    filled = imputer.transform(frame)
    alone = [vae.impute(frame, 100) for vae in imputer.vaes_]
    gaps = frame["x"].isna()
    np.testing.assert_allclose(
        filled.loc[gaps, "x"], np.mean([a.loc[gaps, "x"] for a in alone], axis=0)
    )
    # A level: the one most members fill in (ties: the first member's).
    for i in np.flatnonzero(frame["level"].isna()):
        votes = [a.loc[i, "level"] for a in alone]
        counts = [votes.count(v) for v in votes]
        assert filled.loc[i, "level"] == votes[int(np.argmax(counts))]
    pd.testing.assert_frame_equal(filled[frame.notna()], frame[frame.notna()])
    # Draws: each row's completion is one member's draw.
    imputer.set_params(sample_posterior=True)
    drawn = imputer.transform(frame)
    assert drawn.notna().all().all()
    assert drawn.loc[gaps, "x"].nunique() == gaps.sum()


def test_n_jobs_fits_and_imputes_with_the_models_at_once_and_the_same_results(
    quiet_fit, monkeypatch
):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3)) @ rng.normal(size=(3, 5))
    X[rng.uniform(size=X.shape) < 0.2] = np.nan
    members = [
        VAETransformer(n_components=2, hidden_layer_sizes=(8,), max_iter=4),
        VAETransformer(n_components=2, hidden_layer_sizes=(16,), max_iter=4),
        VAETransformer(n_components=1, max_iter=4, decoder_variance="per_feature"),
    ]
    one_by_one = quiet_fit(VAEImputer(members, random_state=0), X)
    expected = one_by_one.transform(X)
    # The first two fits, and the first two imputations, must run at the
    # same time: each waits (at most 60 s) for the other at a barrier.
    fit, impute = VAETransformer.fit, VAETransformer.impute
    calls = {"fit": 0, "impute": 0}
    counting = threading.Lock()  # the threads count at the same time

    def meeting(name, method):
        barrier = threading.Barrier(2, timeout=60)

        def wrapped(self, *args, **kwargs):
            with counting:
                calls[name] += 1
                among_first_two = calls[name] <= 2
            if among_first_two:
                barrier.wait()
            return method(self, *args, **kwargs)

        return wrapped

    monkeypatch.setattr(VAETransformer, "fit", meeting("fit", fit))
    monkeypatch.setattr(VAETransformer, "impute", meeting("impute", impute))
    at_once = quiet_fit(VAEImputer(members, n_jobs=2, random_state=0), X)
    filled = at_once.transform(X)
    assert calls == {"fit": 3, "impute": 3}
    np.testing.assert_array_equal(filled, expected)


def test_a_constant_column_holding_another_value_leaves_the_fills_finite(
    quiet_fit,
):
    # A column constant in training says nothing about z. A new row holding
    # another value there has density 0 under the model, which made every
    # importance weight 0 and the row's imputations NaN; they must be the
    # imputations given the row's other cells.
    rng = np.random.RandomState(0)
    factor = rng.normal(size=(300, 1))
    X = np.hstack([factor + 0.1 * rng.normal(size=(300, 3)), np.zeros((300, 1))])
    vae = VAETransformer(
        likelihood="auto",
        n_components=1,
        hidden_layer_sizes=(8,),
        max_iter=40,
        random_state=0,
    )
    imputer = quiet_fit(VAEImputer(vae, random_state=0), X)
    vae = imputer.vae_
    assert vae.column_likelihoods_["kinds"][-1] == "constant"
    seen = X[:20].copy()
    seen[:, 0] = np.nan
    unseen = seen.copy()
    unseen[:, 3] = 1.0
    filled = imputer.transform(unseen)
    assert np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[:, 1:], unseen[:, 1:])
    assert np.sqrt(np.mean((filled[:, 0] - X[:20, 0]) ** 2)) < 0.5
    assert np.isfinite(
        imputer.set_params(sample_posterior=True).transform(unseen)
    ).all()
    # With the same draws of z, exactly the conditional mean of the row
    # holding the training value.
    inference = vae._inference()  # the float64 model and standardisation
    noise = torch.randn(
        500, 20, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    ).to(inference.device)  # the suite also runs on a GPU (gpu_checks.sh)
    with torch.no_grad():
        means = [
            conditional_mean(
                inference.model,
                torch.as_tensor(
                    standardize(rows, inference.center, inference.scale),
                    device=inference.device,
                ),
                noise,
            )
            for rows in (seen, unseen)
        ]
    torch.testing.assert_close(means[1], means[0], rtol=0, atol=0)
    # Its density stays what the model says: 0.
    assert np.isneginf(vae.score_samples(unseen)).all()


def _linear_gaussian(vae):
    """(loc, cov) of x under a fitted linear-Gaussian VAE, in X's units."""
    model = vae.module_
    weight = model.decoder.output_head.weight.detach().double().cpu().numpy()
    bias = model.decoder.output_head.bias.detach().double().cpu().numpy()
    noise = model.likelihood.variance().detach().double().cpu().numpy()
    scale = vae.input_scale_
    loc = vae.input_mean_ + scale * bias
    loadings = scale[:, None] * weight
    return loc, loadings @ loadings.T + np.diag(noise * scale**2)


def test_imputer_approaches_the_exact_conditional_mean(factor_analysis_data):
    # Under the fitted model (linear-Gaussian, so factor analysis) the
    # conditional mean E[x_mis | x_obs] has a closed form; the importance-
    # weighted imputation must reach it, and beat the column means by far.
    X_train, X_test = factor_analysis_data
    missing, mask = with_missing(X_train, 0.3)
    vae = VAETransformer(**LINEAR, max_iter=400, learning_rate=1e-2, random_state=0)
    imputer = VAEImputer(vae, n_importance_samples=2000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer.fit(missing)
    test_missing, test_mask = with_missing(X_test[:200], 0.3, seed=1)
    filled = imputer.transform(test_missing)
    loc, cov = _linear_gaussian(imputer.vae_)
    exact = test_missing.copy()
    for row, cells in zip(exact, test_mask, strict=True):
        if cells.any():
            seen = ~cells
            gain = cov[np.ix_(cells, seen)] @ np.linalg.inv(cov[np.ix_(seen, seen)])
            row[cells] = loc[cells] + gain @ (row[seen] - loc[seen])
    scale = X_test.std(axis=0)
    error = (
        np.abs(filled - exact)[test_mask]
        / np.broadcast_to(scale, exact.shape)[test_mask]
    )
    assert np.mean(error) < 0.02  # in standard deviations of each feature
    truth = X_test[:200]
    vae_rmse = _rmse((filled / scale)[test_mask], (truth / scale)[test_mask])
    means = SimpleImputer().fit(missing).transform(test_missing)
    assert vae_rmse < 0.8 * _rmse(
        (means / scale)[test_mask], (truth / scale)[test_mask]
    )
    iterative = IterativeImputer(random_state=0).fit(missing).transform(test_missing)
    assert vae_rmse < 1.05 * _rmse(
        (iterative / scale)[test_mask], (truth / scale)[test_mask]
    )


def test_imputer_draws_for_multiple_imputation(small_data, quiet_fit):
    missing, mask = with_missing(small_data, 0.3)
    vae = VAETransformer(max_iter=3)
    draws = []
    for seed in (0, 1):
        imputer = VAEImputer(vae, sample_posterior=True, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            draws.append(imputer.fit_transform(missing))
    assert not np.allclose(draws[0][mask], draws[1][mask])
    np.testing.assert_array_equal(draws[0][~mask], small_data[~mask])
    # The same seed, the same completion.
    again = imputer.transform(missing)
    np.testing.assert_array_equal(again, draws[1])


def test_imputer_indicator_names_and_pandas_output(small_data):
    frame = pd.DataFrame(small_data, columns=list("abcde"))
    frame.iloc[[1, 4], 2] = np.nan
    imputer = VAEImputer(VAETransformer(max_iter=2), add_indicator=True, random_state=0)
    imputer.set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = imputer.fit_transform(frame)
    assert list(out.columns) == ["a", "b", "c", "d", "e", "missingindicator_c"]
    assert out["missingindicator_c"].tolist() == [float(i in (1, 4)) for i in range(60)]
    assert not out.isna().any().any()


def test_imputer_indicator_on_new_gaps_and_on_a_mixed_table(small_data, quiet_fit):
    X = small_data.copy()
    X[[1, 4], 2] = np.nan
    imputer = VAEImputer(VAETransformer(max_iter=2), add_indicator=True)
    quiet_fit(imputer, X)
    later = small_data[:5].copy()
    later[0, 0] = np.nan  # a feature with no gaps at fit: filled, not indicated
    out = imputer.transform(later)
    assert out.shape == (5, 6) and not np.isnan(out).any()
    assert out[:, 5].tolist() == [0.0] * 5
    # An object array of a mixed table: None and NaN are gaps of either kind.
    table = np.empty((60, 2), dtype=object)
    table[:, 0] = small_data[:, 0]
    table[:, 1] = np.where(small_data[:, 1] > 5, "high", "low")
    table[3, 0], table[7, 1], table[9, 1] = np.nan, None, np.nan
    mixed = VAEImputer(
        VAETransformer(likelihood=["gaussian", "categorical"], max_iter=2),
        add_indicator=True,
    )
    out = quiet_fit(mixed, table).transform(table)
    assert out.shape == (60, 4)
    assert np.flatnonzero(out[:, 2].astype(float)).tolist() == [3]
    assert np.flatnonzero(out[:, 3].astype(float)).tolist() == [7, 9]
    assert set(out[:, 1]) <= {"high", "low"}  # levels, not their codes


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
@parametrize_with_checks(
    [VAEImputer(VAETransformer(n_components=1, hidden_layer_sizes=(4,), max_iter=2))]
)
def test_imputer_is_a_scikit_learn_estimator(estimator, check):
    check(estimator)


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_the_training_curve_on_data_with_gaps_is_in_the_data_units(quiet_fit):
    # Features in thousands: each missing cell moves a row's density in the
    # data's units by log(scale), about 7 nats, so a correction with the
    # wrong sign puts the curve some 20 nats away from the score.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 2)) @ rng.normal(size=(2, 5))
    X = 1000.0 * (X + 0.3 * rng.normal(size=X.shape))
    X[rng.rand(*X.shape) < 0.3] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 1.0
    vae = VAETransformer(
        n_components=2,
        hidden_layer_sizes=(16,),
        early_stopping=False,
        max_iter=100,
        n_importance_samples=1,  # the ELBO, the bound the curve records
        random_state=0,
    )
    quiet_fit(vae, X)
    assert vae.loss_curve_[-1] == pytest.approx(-vae.score(X), abs=2.0)
