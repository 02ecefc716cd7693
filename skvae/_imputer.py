"""VAEImputer: missing values filled from a VAE fitted on the observed entries."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.impute import MissingIndicator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ._estimator import VAETransformer
from ._tabular import is_missing
from ._torch_utils import draw_seed

# The VAE of VAEImputer(vae=None): n_components is set at fit time to
# min(16, n_features). Chosen on the 30% MCAR imputation benchmark
# (benchmarks/imputation.py, docs/tables.rst). Against (128, 64) layers
# trained on the 5-draw bound in minibatches of 128, wider layers and a
# 10-draw importance-weighted bound lowered the RMSE on 13 of 16 sets, most
# on the image-like ones (letter 0.554 -> 0.480, pendigits 0.508 -> 0.471,
# optdigits 0.649 -> 0.606). MIWAE trains on 20 draws; on five sets, 10 draws
# in minibatches of 256 did about as well as 20 in minibatches of 128 and
# took half the time. One thread: a training step of this network is about
# 1.4e8 multiply-adds on breast cancer, above the estimator's threshold for
# two threads (skvae._torch_utils.THREADED_MULTIPLY_ADDS), and there a second
# thread gained 1.45x on an idle 2-core machine but cost 2.3x with another
# process busy (40 epochs: 1.9 s against 1.3 s idle, 1.8 s against 4.2 s
# busy).
_DEFAULT_VAE = dict(
    likelihood="auto",
    hidden_layer_sizes=(256, 128),
    n_mc_samples=10,
    batch_size=256,
    n_iter_no_change=30,
    n_threads=1,
    # Measured without the Gaussian likelihood's background part (skvae 0.2
    # had none); its effect on imputation has not been measured yet.
    tail_mass=0.0,
)
# The VAEs VAEImputer(vae=None) averages, each as changes to _DEFAULT_VAE:
# the decoder's variance per point or per feature, and a narrower network.
_DEFAULT_MEMBERS = (
    {},
    {"decoder_variance": "per_feature"},
    {"decoder_variance": "per_feature", "hidden_layer_sizes": (64,)},
)
_DEFAULT_MAX_COMPONENTS = 16


class VAEImputer(TransformerMixin, BaseEstimator):
    """Impute missing values with variational auto-encoders.

    :class:`VAETransformer` models are fitted on the observed entries of
    ``X`` (their bound leaves the missing ones out, and their encoders read
    which ones are missing). Each missing value is then filled with its
    conditional mean given the row's observed values, E[x_mis | x_obs],
    estimated by self-normalised importance sampling with
    ``n_importance_samples`` draws of z (the MIWAE imputation of Mattei &
    Frellsen, 2019). With ``sample_posterior=True`` it is filled with a draw
    from that conditional instead, for multiple imputation, as with
    :class:`~sklearn.impute.IterativeImputer`.

    By default three VAEs of different capacity are fitted and their
    imputations averaged: how much capacity a table needs is not known
    before fitting, and the average of the three beat each of them, and a
    choice among them by cells held out of the fit, on the imputation
    benchmark's tables (see the documentation's page on tables).

    Parameters
    ----------
    vae : VAETransformer, list of VAETransformer or None, default=None
        The model, or the models whose imputations are averaged, cloned at
        fit time. A numeric cell gets the mean of the models' conditional
        means, a categorical cell the level most of them fill in (ties: the
        earliest model's); with ``sample_posterior`` each row takes the
        draw of one model picked at random, a draw from their mixture.
        None: three ``VAETransformer`` models with ``likelihood="auto"`` (so
        a data frame's categorical columns are filled with levels),
        ``n_mc_samples=10`` (they train on the 10-draw importance-weighted
        bound, as MIWAE does on 20), ``batch_size=256``,
        ``n_iter_no_change=30``, ``n_threads=1`` (so they do not slow down
        when other work shares the machine), ``tail_mass=0.0`` (the
        Gaussian alone) and ``n_components`` the smaller of 16 and the
        number of features: ``hidden_layer_sizes=(256, 128)`` with the
        decoder's variance per point (``decoder_variance="per_point"``) and
        per feature, and ``hidden_layer_sizes=(64,)`` with it per feature;
        their other parameters left at their defaults.

    n_importance_samples : int, default=100
        Draws of z per row for the conditional mean (or for the draw).

    sample_posterior : bool, default=False
        Fill each missing value with a draw from p(x_mis | x_obs) instead of
        its mean. Different ``random_state`` values then give different
        completions of the same data (multiple imputation).

    add_indicator : bool, default=False
        Append a :class:`~sklearn.impute.MissingIndicator`'s columns (one per
        feature that had missing values at fit time) to the output.

    n_jobs : int or None, default=None
        How many of the models to fit, and to impute with, at once, in
        threads (torch runs outside Python's lock, and threads share ``X``
        without copies). None means 1 unless in a
        :func:`joblib.parallel_config` context; -1 means all processors.
        The results are the same for any value. Each model still uses its
        own ``n_threads`` torch threads (one for the default models), so
        ``n_jobs`` times that should not exceed the free cores.

    random_state : int, RandomState instance or None, default=None
        Seeds the VAEs (overriding their own ``random_state``) and the draws.

    Attributes
    ----------
    vaes_ : list of VAETransformer
        The fitted models, in the order of ``vae``.

    vae_ : VAETransformer
        The first of ``vaes_`` (the only one when ``vae`` is one model).

    indicator_ : MissingIndicator or None
        The fitted indicator when ``add_indicator`` is True.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.impute.IterativeImputer : Imputes each feature from the others
        in turn.
    sklearn.impute.KNNImputer : Imputes from the nearest complete rows.

    References
    ----------
    Kingma, D. P. and Welling, M. (2013). Auto-Encoding Variational Bayes.
    arXiv:1312.6114.

    Mattei, P.-A. and Frellsen, J. (2019). MIWAE: Deep Generative Modelling
    and Imputation of Incomplete Data Sets. ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAEImputer, VAETransformer
    >>> rng = np.random.RandomState(0)
    >>> factor = rng.normal(size=(300, 1))
    >>> X = factor @ np.ones((1, 4)) + 0.1 * rng.normal(size=(300, 4))
    >>> X[rng.uniform(size=X.shape) < 0.2] = np.nan
    >>> imputer = VAEImputer(VAETransformer(n_components=1, hidden_layer_sizes=(16,),
    ...                                     max_iter=50), random_state=0)
    >>> X_filled = imputer.fit_transform(X)
    >>> bool(np.isnan(X_filled).any())
    False
    """

    _parameter_constraints: dict = {
        "vae": [VAETransformer, list, None],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "sample_posterior": ["boolean"],
        "add_indicator": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        vae=None,
        *,
        n_importance_samples=100,
        sample_posterior=False,
        add_indicator=False,
        n_jobs=None,
        random_state=None,
    ):
        self.vae = vae
        self.n_importance_samples = n_importance_samples
        self.sample_posterior = sample_posterior
        self.add_indicator = add_indicator
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the VAEs on the observed entries of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing values as NaN. Rows with no observed value are
            an error.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : VAEImputer
            The fitted imputer.
        """
        X = self._validate_input(X, reset=True)
        members = self._members()
        rng = check_random_state(self.random_state)
        if self.random_state is not None:
            seed = draw_seed(rng) % 2**32
            for vae in members:
                vae.set_params(random_state=seed)
        self._draw_seed = draw_seed(rng)
        self.vaes_ = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(vae.fit)(X) for vae in members
        )
        self.vae_ = self.vaes_[0]
        self.indicator_ = None
        if self.add_indicator:
            self.indicator_ = MissingIndicator(
                missing_values=1.0, error_on_new=False
            ).fit(_missing_mask(X))
        return self

    def transform(self, X):
        """Fill the missing values of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing values as NaN.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_output_features)
            ``X`` with its missing values filled (observed values unchanged),
            followed by the indicator's columns when ``add_indicator``.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        seed = self._draw_seed % 2**32
        imputations = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(vae.impute)(
                X, self.n_importance_samples, self.sample_posterior, seed + k
            )
            for k, vae in enumerate(self.vaes_)
        )
        imputed = _combine(
            imputations,
            _missing_mask(X) == 1,
            self._kinds(),
            self.sample_posterior,
            check_random_state(seed),
        )
        if self.indicator_ is None:
            return imputed
        indicator = self.indicator_.transform(_missing_mask(X))
        if hasattr(imputed, "columns"):  # a frame, like the training one
            names = self.indicator_.get_feature_names_out(self.feature_names_in_)
            imputed[list(names)] = indicator.astype(float)
            return imputed
        return np.hstack([imputed, indicator.astype(imputed.dtype)])

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the input's, then the indicator's.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; by default ``feature_names_in_`` or
            ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The names of the output columns.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        if self.indicator_ is not None:
            names = np.concatenate(
                [names, self.indicator_.get_feature_names_out(names)]
            )
        return names

    def _kinds(self) -> list[str]:
        """Each column's likelihood (the same in every member)."""
        columns = getattr(self.vae_, "column_likelihoods_", None)
        return columns["kinds"] if columns else ["gaussian"] * self.n_features_in_

    def _members(self) -> list[VAETransformer]:
        """Unfitted copies of the VAEs whose imputations are averaged."""
        if self.vae is None:
            n_components = min(_DEFAULT_MAX_COMPONENTS, self.n_features_in_)
            return [
                VAETransformer(n_components=n_components, **{**_DEFAULT_VAE, **changes})
                for changes in _DEFAULT_MEMBERS
            ]
        if isinstance(self.vae, VAETransformer):
            return [clone(self.vae)]
        if not self.vae or not all(isinstance(v, VAETransformer) for v in self.vae):
            raise ValueError(
                "vae must be None, a VAETransformer or a non-empty list of "
                f"VAETransformers to average; got {self.vae!r}."
            )
        return [clone(vae) for vae in self.vae]

    def _validate_input(self, X, reset):
        """The column count and names; the VAE checks the values."""
        if hasattr(X, "tocsr"):
            raise TypeError(
                "VAEImputer needs dense X; got a sparse matrix. Missing values "
                "are NaN entries of a dense array or data frame."
            )
        if hasattr(X, "columns"):  # a frame keeps its columns' dtypes
            validate_data(self, X, skip_check_array=True, reset=reset)
            return X
        return validate_data(
            self, X, dtype=None, ensure_all_finite="allow-nan", reset=reset
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _combine(imputations, missing, kinds, draws, rng):
    """The members' imputations of one table, combined cell by cell.

    Means: a numeric cell gets the average of the members' conditional
    means, the mean of the equal-weight mixture of their conditionals
    p_m(x_mis | x_obs); a categorical cell the level most members fill in
    (ties: the earliest member's). Weighting each member by its own
    p_m(x_obs) instead (the conditional of the members' mixture) did worse
    in benchmarks/imputer_inference.py: the network with the highest
    likelihood is not the one that fills best (breast cancer, seed 0: RMSE
    0.563 against 0.522).
    Draws (``draws``): each row takes one member's draw, chosen at random,
    which is a draw from the mixture. Observed cells are left as they are.
    """
    first = imputations[0]
    if len(imputations) == 1:
        return first
    rows = np.arange(missing.shape[0])
    chosen = rng.randint(len(imputations), size=missing.shape[0])
    combined = first.copy()
    for j, kind in enumerate(kinds):
        gaps = missing[:, j]
        if not gaps.any():
            continue
        cells = np.stack([_column(imputed, j)[gaps] for imputed in imputations])
        if draws:
            value = cells[chosen[gaps], rows[: gaps.sum()]]
        elif kind == "categorical" or cells.dtype.kind not in "fiu":
            value = _most_common(cells)
        else:
            value = cells.astype(np.float64).mean(axis=0)
        _set_column(combined, j, gaps, value)
    return combined


def _column(table, j) -> np.ndarray:
    return table.iloc[:, j].to_numpy() if hasattr(table, "iloc") else table[:, j]


def _set_column(table, j, rows, values) -> None:
    if hasattr(table, "iloc"):
        column = table.iloc[:, j].copy()
        if column.dtype.kind in "iu":  # counts: averaged, then whole again
            values = np.round(values)
        column[rows] = values
        table.isetitem(j, column)
    else:
        table[rows, j] = values


def _most_common(cells) -> np.ndarray:
    """Per column of ``cells`` (members, rows), the most frequent value;
    ties go to the value of the earliest member holding one."""
    winners = cells[0].copy()
    for i in range(cells.shape[1]):
        values = list(cells[:, i])
        winners[i] = max(
            values, key=lambda value: (values.count(value), -values.index(value))
        )
    return winners


def _missing_mask(X) -> np.ndarray:
    """1.0 where a cell of a table or an array is missing (NaN, None, pandas'
    NA), 0.0 elsewhere: what the missing indicator reads."""
    if hasattr(X, "to_pandas") and not hasattr(X, "isna"):  # polars
        X = X.to_pandas()
    if hasattr(X, "isna"):
        return X.isna().to_numpy().astype(np.float64)
    X = np.asarray(X)
    if X.dtype.kind in "fc":
        return np.isnan(X).astype(np.float64)
    return np.frompyfunc(is_missing, 1, 1)(X).astype(np.float64)
