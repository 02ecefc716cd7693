"""Each observation model against scipy.stats."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from skvae import VAETransformer
from skvae._likelihoods import (
    LIKELIHOODS,
    BernoulliLikelihood,
    GaussianLikelihood,
    GaussianSigmoidLikelihood,
    Likelihood,
    PoissonLikelihood,
)


def test_gaussian_log_prob_matches_scipy():
    rng = np.random.RandomState(0)
    likelihood = GaussianLikelihood(4, 1e-3, decoder_variance="per_feature").double()
    with torch.no_grad():
        likelihood.log_excess_variance.copy_(torch.tensor([-1.0, 0.0, 0.5, -8.0]))
    x = rng.normal(size=(6, 4))
    mean = rng.normal(size=(6, 4))
    variance = 1e-3 + np.exp([-1.0, 0.0, 0.5, -8.0])
    expected = stats.norm(mean, np.sqrt(variance)).logpdf(x).sum(axis=1)
    got = likelihood.log_prob(torch.from_numpy(x), torch.from_numpy(mean))
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-12)


def test_per_point_gaussian_log_prob_matches_scipy():
    """The decoder output holds the mean, then the raw variance, per feature."""
    rng = np.random.RandomState(3)
    likelihood = GaussianLikelihood(n_features=4, min_variance=1e-3).double()
    x = rng.normal(size=(6, 4))
    mean = rng.normal(size=(6, 4))
    raw = rng.normal(scale=3.0, size=(6, 4))
    variance = 1e-3 + np.log1p(np.exp(raw + np.log(np.expm1(1.0))))  # softplus
    expected = stats.norm(mean, np.sqrt(variance)).logpdf(x).sum(axis=1)
    output = torch.from_numpy(np.concatenate([mean, raw], axis=1))
    got = likelihood.log_prob(torch.from_numpy(x), output)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    assert likelihood.n_outputs == 8
    np.testing.assert_array_equal(likelihood.mean(output).numpy(), mean)


def test_per_point_variance_starts_at_the_data_variance():
    zeros = torch.zeros(2, 6)
    assert torch.allclose(GaussianLikelihood(3, 0.0).variance(zeros), torch.ones(3))
    sigmoid = GaussianSigmoidLikelihood(3, 0.0)
    assert torch.allclose(sigmoid.variance(zeros), torch.full((3,), 1 / 12))


@pytest.mark.parametrize("variance", ["per_point", "per_feature"])
def test_gaussian_variance_never_below_floor(variance):
    likelihood = GaussianLikelihood(
        n_features=3, min_variance=0.05, decoder_variance=variance
    )
    output = torch.zeros(1, likelihood.n_outputs)
    with torch.no_grad():
        if variance == "per_feature":
            likelihood.log_excess_variance.fill_(-1e4)
        else:
            output[:, 3:] = -1e4
    assert torch.all(likelihood.variance(output) >= 0.05)
    # A perfect reconstruction therefore has a bounded density.
    x = torch.zeros(1, 3)
    assert torch.isfinite(likelihood.log_prob(x, output)).all()


def test_large_per_point_variance_stays_finite():
    likelihood = GaussianLikelihood(n_features=2, min_variance=1e-3)
    output = torch.tensor([[0.0, 0.0, 1e4, 1e4]])
    assert torch.isfinite(likelihood.log_prob(torch.zeros(1, 2), output)).all()


def test_bernoulli_log_prob_matches_scipy():
    rng = np.random.RandomState(1)
    logits = rng.normal(scale=3.0, size=(5, 7))
    x = rng.binomial(1, 0.4, size=(5, 7)).astype(float)
    probability = 1.0 / (1.0 + np.exp(-logits))
    expected = stats.bernoulli(probability).logpmf(x).sum(axis=1)
    likelihood = BernoulliLikelihood(n_features=7)
    got = likelihood.log_prob(torch.from_numpy(x), torch.from_numpy(logits))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)


# The likelihoods of one real number per feature (categorical columns and
# mixed tables are tested in test_tabular.py).
PER_FEATURE = sorted(set(LIKELIHOODS) - {"categorical", "mixed"})


@pytest.mark.parametrize("variance", ["per_point", "per_feature"])
def test_log_prob_broadcasts_over_draws(variance):
    x = torch.rand(4, 3)
    for name in PER_FEATURE:
        likelihood_class = LIKELIHOODS[name]
        settings = dict(min_variance=1e-3, decoder_variance=variance)
        likelihood = likelihood_class.build(3, **settings)
        output = torch.randn(5, 4, likelihood.n_outputs)  # (draws, batch, outputs)
        assert likelihood.log_prob(x, output).shape == (5, 4)


@pytest.mark.parametrize("variance", ["per_point", "per_feature"])
@pytest.mark.parametrize("name", PER_FEATURE)
def test_sample_moments_match_mean(name, variance):
    settings = dict(min_variance=1e-3, decoder_variance=variance)
    likelihood = LIKELIHOODS[name].build(3, **settings)
    row = [-1.0, 0.0, 2.0] + [-2.0, 0.0, 1.0][: likelihood.n_outputs - 3]
    output = torch.tensor([row]).expand(20000, len(row))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        draws = likelihood.sample(output, generator)
        expected_mean = likelihood.mean(output)[0]
    assert draws.shape == (20000, 3)
    np.testing.assert_allclose(draws.mean(0), expected_mean, atol=0.03)
    if name == "bernoulli":
        assert set(np.unique(draws.numpy())) <= {0.0, 1.0}
    else:
        expected_variance = likelihood.variance(output).detach()
        np.testing.assert_allclose(
            draws.var(0), expected_variance.expand(20000, 3)[0], rtol=0.05
        )


def test_gaussian_sigmoid_log_prob_matches_scipy():
    rng = np.random.RandomState(2)
    likelihood = GaussianSigmoidLikelihood(3, 1e-4, decoder_variance="per_feature")
    likelihood = likelihood.double()
    with torch.no_grad():
        likelihood.log_excess_variance.copy_(torch.tensor([-2.0, -5.0, 0.0]))
    x = rng.uniform(size=(6, 3))
    output = rng.normal(scale=2.0, size=(6, 3))
    mean = 1.0 / (1.0 + np.exp(-output))
    variance = 1e-4 + np.exp([-2.0, -5.0, 0.0])
    expected = stats.norm(mean, np.sqrt(variance)).logpdf(x).sum(axis=1)
    got = likelihood.log_prob(torch.from_numpy(x), torch.from_numpy(output))
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-12)
    assert not likelihood.standardizes_input
    assert likelihood.support == (0.0, 1.0)


def test_poisson_log_prob_matches_scipy():
    rng = np.random.RandomState(3)
    likelihood = PoissonLikelihood(4)
    output = rng.normal(scale=2.0, size=(6, 4))
    rate = np.log1p(np.exp(output))  # softplus
    x = rng.poisson(rate).astype(float)
    expected = stats.poisson(rate).logpmf(x)
    got = likelihood.log_prob_terms(torch.from_numpy(x), torch.from_numpy(output))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(
        likelihood.log_prob(torch.from_numpy(x), torch.from_numpy(output)).numpy(),
        expected.sum(axis=1),
        rtol=1e-10,
    )


def test_poisson_encoder_reads_log1p_of_the_counts():
    x = torch.tensor([[0.0, 3.0, 100.0]])
    np.testing.assert_allclose(
        PoissonLikelihood(3).encoder_input(x).numpy(), np.log1p(x.numpy())
    )


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[1.0, -1.0]]), "negative value"),
        (np.array([[1.0, 0.5]]), "non-integer"),
    ],
)
def test_poisson_rejects_what_is_not_a_count(X, message):
    with pytest.raises(
        ValueError, match=rf"likelihood='poisson' models counts.*{message}"
    ):
        PoissonLikelihood.check_data(X, "poisson")
    PoissonLikelihood.check_data(np.abs(np.round(X)), "poisson")  # counts pass


def test_a_likelihood_missing_a_method_cannot_be_built():
    class NoSample(Likelihood):
        def log_prob_terms(self, x, output):
            return x

        def mean(self, output):
            return output

    with pytest.raises(TypeError, match="abstract"):
        NoSample(3, 1e-3)


def test_poisson_vae_reaches_the_log_likelihood_of_the_true_counts_model():
    """Independent Poisson counts: the best model is one rate per feature, whose
    held-out log-likelihood is known in closed form; the VAE must reach it."""
    rng = np.random.RandomState(0)
    rates = np.array([0.5, 2.0, 7.0, 20.0])
    X_train, X_test = rng.poisson(rates, size=(2000, 4)), rng.poisson(rates, (1000, 4))
    vae = VAETransformer(
        n_components=2, hidden_layer_sizes=(16,), likelihood="poisson", random_state=0
    ).fit(X_train)
    true_model = stats.poisson(rates).logpmf(X_test).sum(axis=1).mean()
    assert abs(vae.score(X_test) - true_model) < 0.05
    with pytest.raises(ValueError, match="non-negative integer"):
        vae.score(X_test + 0.5)


def test_build_passes_a_likelihood_only_its_own_settings():
    settings = dict(min_variance=0.5, decoder_variance="per_feature", other=1)
    gaussian = GaussianLikelihood.build(3, **settings)
    assert gaussian.min_variance == 0.5 and not gaussian.per_point
    # Models without a variance take neither setting (nor the unknown one).
    assert isinstance(PoissonLikelihood.build(3, **settings), PoissonLikelihood)
    with pytest.raises(TypeError):
        PoissonLikelihood(3, min_variance=0.5)


# ------------------------------------------------------------- tail_mass


@pytest.mark.parametrize("variance", ["per_point", "per_feature"])
def test_gaussian_with_tail_mass_is_the_two_part_mixture(variance):
    rng = np.random.RandomState(0)
    tail = 0.05
    likelihood = GaussianLikelihood(
        3, 1e-3, decoder_variance=variance, tail_mass=tail
    ).double()
    n_outputs = likelihood.n_outputs
    output = torch.from_numpy(rng.normal(size=(5, n_outputs)))
    x = rng.normal(size=(5, 3)) * 3.0
    variance_values = likelihood.variance(output).detach().numpy()
    mean = output.numpy()[:, :3]
    expected = np.log(
        (1 - tail) * stats.norm(mean, np.sqrt(variance_values)).pdf(x)
        + tail * stats.norm(0.0, 1.0).pdf(x)
    ).sum(axis=1)
    got = likelihood.log_prob(torch.from_numpy(x), output).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    # The mean is the mixture's: the background's mean is 0 here.
    np.testing.assert_allclose(
        likelihood.mean(output).detach().numpy(), (1 - tail) * mean, rtol=1e-12
    )


def test_gaussian_sigmoid_tail_is_uniform_on_the_unit_interval():
    tail = 0.1
    likelihood = GaussianSigmoidLikelihood(2, 1e-3, tail_mass=tail).double()
    output = torch.tensor([[0.0, 2.0, -1.0, -1.0]], dtype=torch.float64)
    x = np.array([[0.3, 0.99]])
    mean = 1 / (1 + np.exp(-np.array([0.0, 2.0])))
    variance = likelihood.variance(output).detach().numpy()
    expected = np.log(
        (1 - tail) * stats.norm(mean, np.sqrt(variance)).pdf(x) + tail * 1.0
    ).sum()
    got = likelihood.log_prob(torch.from_numpy(x), output).item()
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_samples_with_tail_mass_come_from_the_mixture():
    likelihood = GaussianLikelihood(1, 1e-6, decoder_variance="per_feature")
    with torch.no_grad():
        likelihood.log_excess_variance.fill_(np.log(1e-4))  # sd 0.01
    likelihood.tail_mass = 0.2
    output = torch.full((20000, 1), 5.0)  # the Gaussian part sits at 5
    with torch.no_grad():
        draws = likelihood.sample(output, torch.Generator().manual_seed(0)).numpy()
    from_background = np.abs(draws - 5.0) > 0.1
    assert abs(from_background.mean() - 0.2) < 0.01
    # ... and those are N(0, 1) draws.
    assert abs(draws[from_background].std() - 1.0) < 0.05


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_tail_mass_caps_what_one_unseen_value_costs():
    # The second feature follows the first with tiny noise, so the decoder's
    # per-point variance becomes tiny; the unseen row leaves that line by
    # three standard deviations of the feature.
    rng = np.random.RandomState(0)
    first = rng.normal(size=300)
    X = np.column_stack([first, first + 0.01 * rng.normal(size=300)])
    unseen = np.array([[0.0, 3.0]])
    scores = {}
    for tail_mass in (0.0, 0.01):
        vae = VAETransformer(
            n_components=1,
            hidden_layer_sizes=(16,),
            tail_mass=tail_mass,
            max_iter=60,
            random_state=0,
        ).fit(X)
        scores[tail_mass] = (vae.score(X), vae.score_samples(unseen)[0])
    gaussian_typical, gaussian_unseen = scores[0.0]
    tail_typical, tail_unseen = scores[0.01]
    assert gaussian_unseen < -1000  # hundreds of standard deviations off
    # Tens of nats at most: -log(0.01) = 4.6, the background's 5.4 nats for a
    # value 3 standard deviations out, and the 3.7 nats a typical row gains
    # from the second feature's tiny variance.
    assert tail_unseen > gaussian_typical - 30
    # Typical rows pay little for the background: under 0.1 nats per feature
    # (and the fits differ a little).
    assert tail_typical > gaussian_typical - 0.5


class LaplaceLikelihood(Likelihood):
    """docs/contributing.rst's recipe, followed literally: a Laplace
    likelihood with a learned scale per feature, registered only through
    LIKELIHOODS."""

    def __init__(self, n_features):
        super().__init__(n_features)
        self.log_scale = torch.nn.Parameter(torch.zeros(n_features))

    def log_prob_terms(self, x, output):
        scale = self.log_scale.exp()
        return -torch.abs(x - output) / scale - self.log_scale - math.log(2.0)

    def mean(self, output):
        return output

    def sample(self, output, generator):
        u = torch.rand(output.shape, generator=generator, dtype=output.dtype) - 0.5
        scale = self.log_scale.exp()
        return output - scale * torch.sign(u) * torch.log1p(-2.0 * u.abs())


def test_a_likelihood_registered_only_in_the_registry_fits(monkeypatch, quiet_fit):
    with pytest.raises(ValueError, match="'likelihood' parameter"):
        VAETransformer(likelihood="laplace").fit(np.zeros((30, 2)))
    monkeypatch.setitem(LIKELIHOODS, "laplace", LaplaceLikelihood)
    scales = np.array([1.0, 2.0, 0.5])
    X = np.random.RandomState(0).laplace(size=(600, 3)) * scales
    vae = VAETransformer(
        likelihood="laplace", hidden_layer_sizes=(16,), max_iter=60, random_state=0
    )
    quiet_fit(vae, X[:300])
    assert isinstance(vae.module_.likelihood, LaplaceLikelihood)
    true_model = stats.laplace(scale=scales).logpdf(X[300:]).sum(axis=1).mean()
    assert vae.score(X[300:]) == pytest.approx(true_model, abs=0.3)
    assert vae.sample(5, random_state=0)[0].shape == (5, 3)
