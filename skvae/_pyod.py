"""PyODVAEDetector: skvae's outlier detector with PyOD's conventions.

PyOD's detectors score *abnormality* (higher = more abnormal), label outliers
1 and inliers 0, and keep the training rows' scores in ``decision_scores_``;
its combination tools (LSCP, FeatureBagging, SUOD, score averaging) rely on
all three. :class:`skvae.VAEOutlierDetector` follows scikit-learn instead
(higher = more normal, labels -1 / +1). This module, imported only when the
class is first asked for, subclasses PyOD's ``BaseDetector`` so that a PyOD
user gets those conventions without sign flips of their own.
"""

from __future__ import annotations

from pyod.models.base import BaseDetector
from sklearn.utils.validation import check_is_fitted

from ._outlier import VAEOutlierDetector


class PyODVAEDetector(BaseDetector):
    """Variational auto-encoder outlier detector with PyOD's API.

    A :class:`pyod.models.base.BaseDetector` around
    :class:`skvae.VAEOutlierDetector`: ``decision_function`` is the negative
    of the VAE statistic (higher = more abnormal), ``predict`` returns 1 for
    outliers and 0 for inliers, and ``fit`` sets ``decision_scores_``,
    ``threshold_`` and ``labels_`` from the training rows, as every PyOD
    detector does. ``predict_proba`` and ``predict_confidence`` are PyOD's.
    Needs the ``pyod`` package.

    Parameters
    ----------
    vae : VAETransformer or None, default=None
        The VAE to fit (cloned); None uses ``VAEOutlierDetector``'s default.

    statistic : {'elbo_latent', 'elbo', 'importance_weighted', \
            'reconstruction', 'reconstruction_error'}, default='elbo_latent'
        The per-row statistic of :class:`skvae.VAEOutlierDetector`.

    contamination : float in (0, 0.5], default=0.1
        Expected fraction of outliers, which sets ``threshold_`` (PyOD's
        convention and default).

    random_state : int, RandomState instance or None, default=None
        Seeds the VAE (see :class:`skvae.VAEOutlierDetector`).

    Attributes
    ----------
    detector_ : VAEOutlierDetector
        The fitted scikit-learn detector.

    decision_scores_ : ndarray of shape (n_samples,)
        Abnormality of the training rows (higher = more abnormal).

    threshold_ : float
        The ``1 - contamination`` quantile of ``decision_scores_``.

    labels_ : ndarray of shape (n_samples,)
        1 for the training rows above ``threshold_``, 0 otherwise.

    See Also
    --------
    skvae.VAEOutlierDetector : The same detector with scikit-learn's
        conventions.

    References
    ----------
    Kingma, D. P. and Welling, M. (2013). Auto-Encoding Variational Bayes.
    arXiv:1312.6114.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import PyODVAEDetector, VAETransformer
    >>> X = np.random.RandomState(0).normal(size=(200, 4))
    >>> vae = VAETransformer(hidden_layer_sizes=(16,), max_iter=20)
    >>> detector = PyODVAEDetector(vae, contamination=0.05, random_state=0).fit(X)
    >>> sorted(set(detector.labels_.tolist()))
    [0, 1]
    >>> detector.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self, vae=None, statistic="elbo_latent", contamination=0.1, random_state=None
    ):
        super().__init__(contamination=contamination)
        self.vae = vae
        self.statistic = statistic
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit the VAE on ``X`` and score its rows; ``y`` is ignored.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows, with or without outliers. A DataFrame's column
            names are kept, and checked when rows are scored.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : PyODVAEDetector
            The fitted detector.
        """
        # X goes to the inner detector as it came: its validate_data checks
        # it, and records a DataFrame's column names so that scoring a frame
        # later raises no feature-name warning. Converting X here first would
        # fit the inner detector without them (PyOD's issue #540).
        self._set_n_classes(y)
        self.detector_ = VAEOutlierDetector(
            vae=self.vae, statistic=self.statistic, random_state=self.random_state
        ).fit(X)
        self.decision_scores_ = -self.detector_.score_samples(X)
        self._process_decision_scores()
        return self

    def decision_function(self, X):
        """Abnormality of each row of ``X``: higher is more abnormal.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score, with the training data's columns.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The negative of the VAE statistic (in nats, or in interquartile
            ranges of the training scores for 'elbo_latent').
        """
        check_is_fitted(self, "detector_")
        return -self.detector_.score_samples(X)
