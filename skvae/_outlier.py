"""VAEOutlierDetector: density scoring for outlier detection.

A thin outlier-detector shell around a :class:`~skvae.VAETransformer`, held by
composition: the detector clones the VAE it is given, fits it, and turns one
of the VAE's per-row statistics into scikit-learn's outlier-detector API
(``score_samples``, ``decision_function``, ``predict``).
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._estimator import VAETransformer
from ._objectives import ROW_STATISTICS

# The per-row statistics the detector offers: those of
# VAETransformer.row_statistic (turned so that higher is more normal), and
# 'elbo_latent', which combines two of them (see _combine).
_STATISTICS = ("elbo_latent", *ROW_STATISTICS)

# Weight of the code's standardised distance from the prior in 'elbo_latent',
# chosen on the development sets of benchmarks/outliers.py
# (benchmarks/outlier_study.py, rounds 3-5): 1/2 and 1 helped on sets whose
# outliers sit far out in every feature and cost more on the others.
LATENT_WEIGHT = 0.25

# The VAE fitted when ``vae=None``, chosen on the ten development sets of
# benchmarks/outliers.py (benchmarks/outlier_study.py; docs/outliers.rst has
# the numbers): the paper's per-point decoder variance, a small network, and
# few large minibatches with a large learning rate, so a fit takes about a
# second; 16 draws per scored row. skvae 0.3 re-tested it by leave-sets-out
# on 29 sets (benchmarks/outlier_defaults_cv.py): no candidate (the
# automatic schedule, the background part, other widths, rates or latent
# rules) beat it on the folds left out of the choice, and all were 2-5
# times slower, so it stays, with its schedule and its plain Gaussian
# written out and no more latent dimensions than features (fit caps
# n_components).
_DEFAULT_VAE = dict(
    n_components=8,
    hidden_layer_sizes=(16,),
    decoder_variance="per_point",
    tail_mass=0.0,
    batch_size=1024,
    n_iter_no_change=10,
    learning_rate=2e-2,
    max_iter=300,
    early_stopping=True,
    lr_plateau_decays=0,
    objective="elbo",
    n_mc_samples=1,
    n_importance_samples=16,
)


class VAEOutlierDetector(OutlierMixin, BaseEstimator):
    """Unsupervised outlier detection with a variational auto-encoder.

    The detector fits a :class:`VAETransformer` to the training rows, which
    may themselves contain outliers, and scores each row by how well the
    fitted model explains it. By default the score combines the evidence
    lower bound (ELBO) on log p(x) (Kingma & Welling, 2013), low for rows in
    low-density regions of the learned model, with how far the row's code
    lies from the prior, low for rows the encoder maps far out.

    The conventions are scikit-learn's, as in
    :class:`~sklearn.ensemble.IsolationForest`: ``score_samples`` is higher for
    more normal rows, ``decision_function`` is ``score_samples - offset_`` and
    is negative for outliers, and ``predict`` returns +1 for inliers and -1
    for outliers. PyOD's detectors use the opposite orientation (higher = more
    abnormal): PyOD's ``decision_function`` corresponds to
    ``-score_samples`` here, and PyOD's labels 1 / 0 to -1 / +1.

    Parameters
    ----------
    vae : VAETransformer or None, default=None
        The model to fit, used as a template: it is cloned in ``fit`` and the
        fitted copy is ``vae_``. Its parameters can be tuned through the
        detector, e.g. ``set_params(vae__n_components=4)`` or a
        :class:`~sklearn.model_selection.GridSearchCV` grid on
        ``vae__n_components`` (this needs an explicit ``vae``). None fits
        ``VAETransformer(n_components=min(8, n_features),
        hidden_layer_sizes=(16,), tail_mass=0.0, batch_size=1024,
        n_iter_no_change=10, learning_rate=2e-2, max_iter=300,
        early_stopping=True, lr_plateau_decays=0, objective='elbo',
        n_mc_samples=1, n_importance_samples=16)``, chosen on the
        development sets of the outlier benchmark (see the documentation): a
        small network, which models the bulk of the data but has too little
        capacity to also model the outliers of a contaminated training set,
        trained on few large minibatches so that a fit takes about a second
        on a few thousand rows.

    statistic : {'elbo_latent', 'elbo', 'importance_weighted', \
            'reconstruction', 'reconstruction_error', 'latent_energy'}, \
            default='elbo_latent'
        The per-row statistic that ``score_samples`` returns, higher meaning
        more normal:

        - 'elbo_latent': ``(elbo - m_e) / s_e - 0.25 * (energy - m_l) / s_l``,
          where ``energy`` is ``||E[z|x]||^2 / 2``, how far the row's code
          lies from the prior's centre, and each ``m`` and ``s`` is the
          median and interquartile range of that quantity over the training
          rows (``reference_median_`` and ``reference_iqr_``). Rows are
          flagged for a poor ELBO and, with a quarter of the weight, for an
          unusual code: the ELBO alone misses rows that the model explains
          well by giving them a far-out code.
        - 'elbo': the evidence lower bound E_q[log p(x|z)] - KL(q || p) on
          log p(x), in nats in the units of ``X``;
        - 'importance_weighted': the importance-weighted bound on log p(x)
          (Burda et al., 2015), tighter than the ELBO (what
          :meth:`VAETransformer.score_samples` returns);
        - 'reconstruction': E_q[log p(x|z)], the reconstruction probability
          of An & Cho (2015) on the log scale (the ELBO without its KL term);
        - 'reconstruction_error': minus the squared distance between the
          standardised row and its reconstruction from the posterior mean,
          the score of a plain auto-encoder;
        - 'latent_energy': minus ``||E[z|x]||^2 / 2``, how far the row's code
          lies from the prior's centre, alone.

        The expectations use ``vae.n_importance_samples`` draws of z, keyed
        by each row's values, so a row's score does not depend on the other
        rows scored with it. On the development sets of the benchmark of the
        documentation 'elbo_latent' ranked outliers best, then 'elbo' and
        'importance_weighted', then the two reconstruction scores.

    contamination : 'auto' or float, default='auto'
        How ``offset_``, the threshold of ``predict``, is set from the scores
        of the training rows.

        - float in (0, 0.5]: the expected fraction of outliers in the
          training data; ``offset_`` is that quantile of the training scores,
          so that fraction of the training rows is predicted -1 (up to ties).
        - 'auto': Tukey's lower fence, ``Q1 - 1.5 * (Q3 - Q1)`` of the
          training scores, where Q1 and Q3 are their quartiles. A
          log-likelihood has no fixed scale (it depends on the units and the
          number of features), so no fixed offset such as IsolationForest's
          -0.5 would mean anything; the fence flags the rows whose score is
          unusually low for this model, and the fraction it flags depends on
          the data (often a few percent).

    random_state : int, RandomState instance or None, default=None
        When not None, it replaces the ``random_state`` of the cloned VAE, so
        it seeds the weights, the minibatches and the scoring draws. When
        None, the VAE's own ``random_state`` is used.

    Attributes
    ----------
    vae_ : VAETransformer
        The fitted clone of ``vae``.

    offset_ : float
        Threshold on ``score_samples``: ``decision_function`` is
        ``score_samples - offset_``, and rows with a negative decision are
        outliers.

    reference_median_ : ndarray of shape (2,)
        Median of the ELBO and of the latent energy ``||E[z|x]||^2 / 2``
        over the training rows, which 'elbo_latent' is centred on.

    reference_iqr_ : ndarray of shape (2,)
        Their interquartile ranges over the training rows (1 where that is
        0), which 'elbo_latent' divides by.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    VAETransformer : The model the detector fits.
    sklearn.ensemble.IsolationForest : Outlier detection by random partitions.
    sklearn.neighbors.LocalOutlierFactor : Outlier detection by local density.

    References
    ----------
    Kingma, D. P. and Welling, M. (2013). Auto-Encoding Variational Bayes.
    arXiv:1312.6114.

    Burda, Y., Grosse, R. and Salakhutdinov, R. (2015). Importance Weighted
    Autoencoders. arXiv:1509.00519.

    An, J. and Cho, S. (2015). Variational Autoencoder based Anomaly
    Detection using Reconstruction Probability. SNU Data Mining Center,
    Special Lecture on IE, 2(1).

    Tukey, J. W. (1977). Exploratory Data Analysis. Addison-Wesley.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAEOutlierDetector, VAETransformer
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(300, 4)), [[6.0, -6.0, 6.0, -6.0]]])
    >>> detector = VAEOutlierDetector(
    ...     vae=VAETransformer(hidden_layer_sizes=(16,), max_iter=20),
    ...     contamination=0.01,
    ...     random_state=0,
    ... ).fit(X)
    >>> detector.predict(X[-1:])
    array([-1])
    >>> bool(detector.score_samples(X[-1:])[0] < detector.offset_)
    True
    """

    _parameter_constraints: dict = {
        "vae": [VAETransformer, None],
        "statistic": [StrOptions(set(_STATISTICS))],
        "contamination": [
            StrOptions({"auto"}),
            Interval(Real, 0, 0.5, closed="right"),
        ],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        vae=None,
        *,
        statistic="elbo_latent",
        contamination="auto",
        random_state=None,
    ):
        self.vae = vae
        self.statistic = statistic
        self.contamination = contamination
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)  # validates vae's params
    def fit(self, X, y=None):
        """Fit the VAE to ``X`` and set ``offset_`` from the training scores.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, which may contain outliers.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : VAEOutlierDetector
            The fitted detector.
        """
        X = self._validate_input(X, reset=True)
        if self.vae is None:
            n_components = min(_DEFAULT_VAE["n_components"], X.shape[1])
            vae = VAETransformer(**{**_DEFAULT_VAE, "n_components": n_components})
        else:
            vae = clone(self.vae)
        if self.random_state is not None:
            vae.set_params(random_state=self.random_state)
        self.vae_ = vae.fit(X)
        n_draws = self.vae_.n_importance_samples
        elbo = self.vae_.row_statistic(X, "elbo", n_draws)
        energy = self.vae_.row_statistic(X, "latent_energy", 1)
        reference = np.array(
            [_percentile(v, [25.0, 50.0, 75.0]) for v in (elbo, energy)]
        )
        self.reference_median_ = reference[:, 1]
        iqr = reference[:, 2] - reference[:, 0]
        self.reference_iqr_ = np.where(iqr > 0, iqr, 1.0)
        if self.statistic == "elbo_latent":
            training_scores = self._combine(elbo, energy)
        elif self.statistic == "elbo":
            training_scores = elbo
        else:
            training_scores = self._statistic(X)
        self.offset_ = _offset(training_scores, self.contamination)
        return self

    def score_samples(self, X):
        """Normality score of each row: higher means more normal.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The statistic chosen by ``statistic``, oriented so that outliers get
            low values. For the likelihood-based scores, -inf marks rows so
            far from the data that their density underflows.
        """
        check_is_fitted(self)
        return self._statistic(self._validate_input(X, reset=False))

    def decision_function(self, X):
        """Shifted score: ``score_samples(X) - offset_``, negative for outliers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            Negative for the rows ``predict`` calls outliers, non-negative for
            inliers.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each row as an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 where ``decision_function(X) >= 0``, -1 elsewhere.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def _validate_input(self, X, reset: bool):
        return validate_data(
            self,
            X,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",  # the VAE scores the observed part
            reset=reset,
        )

    def _statistic(self, X) -> np.ndarray:
        """The chosen per-row statistic of validated X, higher = more normal."""
        vae = self.vae_
        n_draws = vae.n_importance_samples
        if self.statistic == "elbo_latent":
            elbo = vae.row_statistic(X, "elbo", n_draws)
            return self._combine(elbo, vae.row_statistic(X, "latent_energy", 1))
        values = vae.row_statistic(X, self.statistic, n_draws)
        return values if ROW_STATISTICS[self.statistic].higher_is_typical else -values

    def _combine(self, elbo: np.ndarray, energy: np.ndarray) -> np.ndarray:
        """The 'elbo_latent' score from a row's ELBO and latent energy."""
        standardized = (np.column_stack([elbo, energy]) - self.reference_median_) / (
            self.reference_iqr_
        )
        return standardized[:, 0] - LATENT_WEIGHT * standardized[:, 1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        return tags


def _offset(scores: np.ndarray, contamination) -> float:
    """The threshold on the training scores that ``contamination`` asks for."""
    if contamination == "auto":
        q1, q3 = _percentile(scores, [25.0, 75.0])
        return float(q1 - 1.5 * (q3 - q1))
    return float(_percentile(scores, 100.0 * contamination))


def _percentile(scores: np.ndarray, q):
    """np.percentile of scores that may hold -inf (far-away rows).

    Interpolating next to a -inf gives NaN or -inf, which no row is below, so
    -inf is first replaced by a stand-in below every finite score: such rows
    stay below any threshold, and the threshold stays finite.
    """
    finite = scores[np.isfinite(scores)]
    if finite.size and finite.size < scores.size:
        stand_in = finite.min() - (np.ptp(finite) + 1.0)
        scores = np.where(np.isneginf(scores), stand_in, scores)
    return np.percentile(scores, q)
