"""VAETransformer: the scikit-learn face of the AEVB core.

It validates parameters and input, stores the fitted state, draws the seeds
and documents the API. Data movement (standardisation, minibatches, inference
blocks, memory advice) lives in :mod:`skvae._data`, the observation models in
:mod:`skvae._likelihoods`, the bounds in :mod:`skvae._objectives` and the
optimisation loop in :mod:`skvae._training`.
"""

from __future__ import annotations

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._data import (
    check_numeric_columns,
    check_rows_have_values,
    check_scaling,
    fit_scaling,
    has_missing,
    split_rows,
)
from ._inference import Inference
from ._likelihoods import FOR_ALL_FEATURES, VARIANCE_TYPES, RegisteredNames
from ._networks import ACTIVATIONS, build_vae, rebuild_vae
from ._objectives import OBJECTIVES, ROW_STATISTICS
from ._tabular import ResolvedLikelihood, fit_columns
from ._torch_utils import (
    draw_seed,
    make_generator,
    network_thread_count,
    resolve_device,
    state_from_bytes,
    state_to_bytes,
)
from ._training import (
    OPTIMIZERS,
    StoppingRule,
    TrainingSettings,
    automatic_batch_size,
    automatic_patience,
    current_optimizer,
    describe_stop,
    fit_rows,
)


class VAETransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Variational auto-encoder (AEVB) as a scikit-learn transformer.

    The generative model is p(z) = N(0, I) and p(x | z) given by an MLP
    decoder and an observation model (``likelihood``); the recognition model
    q(z | x) = N(mu(x), diag sigma^2(x)) is an MLP encoder. Both are trained
    jointly by stochastic gradient ascent on the variational lower bound,
    estimated with the reparameterisation z = mu + sigma * eps and the
    analytic KL term (the SGVB estimator B of Kingma & Welling, 2013).

    ``transform`` returns the posterior mean mu(x); ``score_samples`` returns an
    importance-weighted estimate of log p(x) in nats, in the units of ``X``,
    so ``score`` can drive a :class:`~sklearn.model_selection.GridSearchCV`
    without labels. Missing values (NaN) are allowed everywhere: training
    and scores use each row's observed values, and ``likelihood='auto'``
    models a data frame of mixed column types one column at a time.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent space. More latent dimensions than features
        are allowed but warned about: the extra dimensions have nothing to
        describe, and on the iris and wine data they lowered the held-out
        log-likelihood (by 0.3 and 0.4 nats per row against
        ``n_components=n_features``).

    hidden_layer_sizes : array-like of int, default=(256, 128)
        Widths of the encoder's hidden layers; the decoder uses them in
        reverse order. An empty tuple gives linear maps (with a Gaussian
        likelihood, the factor-analysis model).

    activation : {'relu', 'tanh', 'softplus', 'elu', 'gelu', 'logistic', \
            'identity'}, default='relu'
        Non-linearity after each hidden layer.

    likelihood : {'gaussian', 'gaussian_sigmoid', 'bernoulli', 'poisson', \
            'auto'}, list or dict, default='gaussian'
        Observation model p(x | z): one name for every feature, or one per
        column for tables of mixed types.

        - 'gaussian': diagonal Gaussian whose mean and variance the decoder
          outputs (see ``decoder_variance``). Features are standardised
          inside the estimator (the fitted ``input_mean_`` and
          ``input_scale_``); results are reported in the original units.
        - 'gaussian_sigmoid': the same, with the mean squashed into (0, 1)
          by a sigmoid; ``X`` must lie in [0, 1] and is used as given, not
          standardised (the Frey Face decoder of Kingma & Welling, 2013).
        - 'bernoulli': independent Bernoulli per feature; ``X`` must lie in
          [0, 1] (binary data, or grey levels scaled to [0, 1]).
        - 'poisson': independent Poisson counts per feature, with rates
          from the decoder; ``X`` must hold non-negative integers, used as
          given, and the encoder reads ``log1p(X)``. Log-likelihoods are
          exact log-probabilities of the counts, in nats.
        - 'auto': one likelihood per column, chosen from a data frame's
          dtypes: category, object and string columns 'categorical' (a
          softmax over the levels seen in fit; the encoder reads them
          one-hot), booleans 'bernoulli', floats 'gaussian'. Integer
          columns holding only 0 and 1 are 'bernoulli', those with at most
          10 distinct values 'categorical', other non-negative integers
          below 1000 'poisson' (counts), the rest 'gaussian'. On a NumPy
          array every column is read as numbers by the same rule.
        - a list with one of 'gaussian', 'bernoulli', 'poisson' and
          'categorical' per column, or a dict {column name or index: kind}
          that overrides 'auto' for the columns it names.

        With a per-column likelihood, ``score_samples`` sums the columns'
        terms, each in its column's units (densities for Gaussian columns,
        probabilities for the others), the fitted ``column_likelihoods_``
        records each column's kind and levels, and ``inverse_transform`` and
        ``sample`` return a data frame with the training frame's columns,
        dtypes and levels (categorical columns: the most probable level).

    decoder_variance : {'per_point', 'per_feature'}, default='per_point'
        Where the Gaussian likelihoods' variance comes from.

        - 'per_point': the decoder outputs a variance for every feature of
          every data point, as a function of z, next to the mean: the
          Gaussian MLP decoder of Kingma & Welling (2013), Appendix C.2. It
          lets the model be sure of some rows and features and unsure of
          others, which gives much higher held-out log-likelihoods on real
          data (see the documentation's page on the defaults).
        - 'per_feature': one learned variance per feature, shared by every z
          (homoscedastic; the model of skvae 0.1, and with
          ``hidden_layer_sizes=()`` exactly factor analysis).

        Ignored by the Bernoulli likelihood.

    min_variance : float, default=1e-3
        Floor on the Gaussian likelihoods' variances. For 'gaussian' it is
        relative to each feature's variance (the data are standardised); for
        'gaussian_sigmoid' it is in the units of ``X`` squared. It keeps the
        density bounded on near-constant features. A feature recorded on a
        grid (integer counts, pixel levels, values rounded to 0.1) also gets
        the variance of rounding to that grid, ``spacing**2 / 12``, when that
        is larger: without it a per-point variance shrinks onto the grid
        points, giving training rows enormous densities and a new row with a
        value seen once an enormous penalty. The floor used is
        ``variance_floor_``. Ignored by the Bernoulli likelihood.

    tail_mass : float, default=0.01
        Weight of a background part in the Gaussian likelihoods: each
        feature's p(x_j | z) is ``(1 - tail_mass) N(m_j(z), v_j(z)) +
        tail_mass b_j``, where the background ``b_j`` is the feature's
        spread in the training data (a Gaussian with its mean and variance
        for 'gaussian', uniform on [0, 1] for 'gaussian_sigmoid'). A decoder
        that is sure of a value (a small per-point variance) is sometimes
        sure and wrong on a row unlike the training rows, and the Gaussian
        alone then charges that row hundreds or thousands of nats for one
        feature, so one row can decide a held-out mean and a grid search;
        the background caps the charge at about ``-log(tail_mass)`` plus
        the background's own term, for about ``tail_mass`` nats per feature
        on typical rows. The scores stay exact log-densities of this model.
        0 gives the Gaussian alone (with ``hidden_layer_sizes=()`` and
        ``decoder_variance='per_feature'``, exactly factor analysis).
        Ignored by the other likelihoods. See the documentation's page on
        the defaults for the measurements behind the default.

    input_scaling : 'auto' or tuple of two array-like, default='auto'
        The standardisation of the Gaussian likelihood ('gaussian'): the
        model sees ``(X - mean) / scale``.

        - 'auto': each feature's mean and standard deviation in the data the
          model is first fitted on: ``fit``'s X, or the first block given to
          ``partial_fit``.
        - ``(mean, scale)``, two arrays of shape (n_features,): these, e.g.
          statistics computed in one pass over a data set too large for
          memory before training on it block by block, so the model does
          not depend on which block comes first. A scale of 0 (a constant
          feature) counts as 1.

        Likelihoods that read X as given ('gaussian_sigmoid', 'bernoulli',
        'poisson') accept 'auto' only.

    init_scale : float or None, default=None
        How the weights and biases of the networks are drawn. None: PyTorch's
        default for linear layers, U(-1/sqrt(fan_in), 1/sqrt(fan_in)). A
        float: every weight and bias is drawn from N(0, init_scale**2), so
        ``init_scale`` is a standard deviation; Kingma & Welling (2013) draw
        from "N(0, 0.01)", which ``init_scale=0.01`` reads as a standard
        deviation of 0.01. The likelihood's variances start at fixed values
        either way.

    beta : float, default=1.0
        Weight of the KL term in the training objective (beta-VAE). ``1`` is
        the variational lower bound; scoring always uses the true bound.

    n_mc_samples : int, default=5
        Monte Carlo draws of z per data point in the training objective (L in
        the paper; K of the importance-weighted bound with
        ``objective='iwae'``).

    objective : {'auto', 'elbo', 'iwae'}, default='auto'
        Training objective. 'auto' is 'iwae' when ``beta=1`` (the default)
        and 'elbo' otherwise: on the development data the importance-weighted
        bound with 5 draws gave the best held-out log-likelihoods, for about
        1.6 times the training time of the ELBO with one draw (see the
        documentation's page on the defaults).

        - 'elbo': the SGVB estimator of the variational lower bound, averaged
          over ``n_mc_samples`` draws, with the analytic KL term.
        - 'iwae': the importance-weighted bound of Burda et al. (2015) with
          K = ``n_mc_samples`` draws per row, a tighter bound on log p(x)
          that gives the decoder a better log-likelihood at K times the cost
          of one draw. With K = 1 it is the ELBO with a sampled KL term.
          Requires ``beta=1``. ``loss_curve_`` then holds the negative
          importance-weighted bound, and early stopping monitors the same
          bound (K draws) on the validation rows.

    solver : {'adam', 'adagrad', 'sgd'}, default='adam'
        Stochastic optimiser.

    batch_size : 'auto' or int, default='auto'
        Largest number of rows per minibatch. An epoch splits the shuffled
        training rows into ``ceil(n_train / batch_size)`` minibatches of
        near-equal size (they differ by at most one row), so no epoch ends
        on a tiny minibatch with a noisy gradient. 'auto' follows the
        number of training rows: ``n_train // 16`` rows, at least 32 and at
        most 128, so a small table still gets several optimiser steps an
        epoch (a 90-row table 3, where 128 rows gave it one) and a large one
        the 128 rows of earlier versions. The value used is ``batch_size_``.

    max_iter : int, default=1000
        Maximum number of epochs (passes over the training rows).

    learning_rate : float, default=3e-3
        Step size of the optimiser.

    alpha : float, default=0.0
        L2 penalty: ``alpha / 2 * ||W||^2`` over the weight matrices is added
        to the per-sample loss (coupled weight decay; biases and the
        likelihood's variances are not penalised). A N(0, I) prior on the
        weights with ``n`` training rows, as in Kingma & Welling (2013), is
        ``alpha = 1 / n``.

    early_stopping : 'auto' or bool, default='auto'
        Hold out ``validation_fraction`` of the rows, monitor their lower
        bound after each epoch, stop when it has not improved by ``tol`` for
        ``n_iter_no_change`` epochs (after ``lr_plateau_decays`` decays) and
        restore the best weights. 'auto': when the held-out part would have
        at least 3 rows (21 rows with the default ``validation_fraction``);
        smaller data sets monitor the training loss instead, with every row
        trained on. Even a few held-out rows stop a small table from
        over-fitting, which the training loss cannot see.

    validation_fraction : float, default=0.1
        Fraction of rows held out when early stopping is on.

    n_iter_no_change : 'auto' or int, default='auto'
        Patience, in epochs, of the stopping rule. 'auto' waits for about
        160 optimiser steps, and at least 2 epochs: ``max(2, ceil(160 /
        steps_per_epoch))`` epochs, so the patience means the same number of
        updates on a 90-row table (54 epochs of 3 steps) as on a large one
        (2 epochs of thousands of steps). The value used is
        ``n_iter_no_change_``.

    lr_plateau_decays : int, default=2
        How many plateaus divide the learning rate by 3 instead of stopping
        training. A plateau is ``n_iter_no_change`` epochs without an
        improvement above ``tol``; with ``early_stopping`` training then
        goes on from the best validation epoch's weights. The next plateau
        stops training. 0 stops at the first plateau.

    tol : float, default=1e-4
        Smallest improvement, in nats per sample, that counts. Without early
        stopping the training loss is monitored.

    n_importance_samples : int, default=64
        Draws of z per row in ``score_samples`` (K of the importance-weighted
        bound). ``1`` gives the ELBO; larger values give a tighter estimate
        of log p(x).

    device : str, default='auto'
        'cpu', 'cuda', 'cuda:N', or 'auto' (CUDA when available). Resolved
        at fit time; a fitted model is always pickled with its weights on
        the CPU.

    n_threads : int or None, default=None
        Torch's intra-op threads during ``fit``, ``partial_fit`` and
        inference; the caller's setting is restored afterwards. None lets
        the estimator choose: the count set through ``torch.set_num_threads``
        (after skvae was imported) or ``OMP_NUM_THREADS`` /
        ``MKL_NUM_THREADS`` when the user set one;
        otherwise one thread for a network whose training step has fewer
        than 1e8 multiply-adds (rows x draws x weights: the default network
        on up to about 200 features, or the 784-400-20 MNIST model with one
        draw), and torch's default count for larger ones; inference uses
        the same count. A
        thread pool only costs small networks time, and on a machine where
        another process keeps a core busy, several times over: a matrix
        product split over threads waits for the slowest. The choice follows
        the sizes only, never a timing, so a fixed ``random_state`` gives
        the same numbers on every run. Ignored on a GPU.

    precision : {'float32', 'bfloat16'}, default='float32'
        Arithmetic of the training's matrix products. 'bfloat16' runs the
        forward and backward passes under :class:`torch.autocast` in
        bfloat16, which is about 2x faster per matrix product on CPUs with
        AVX-512 BF16 or AMX and on recent GPUs, and slower on CPUs without
        them; the weights, the loss, the optimiser and all of inference stay
        in float32 / float64. Its effect on the held-out log-likelihood is
        measured in the documentation's performance page.

    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the minibatch order, the noise of training and
        the draws of scoring. An int gives identical results on every fit on
        the CPU. On the PyTorch builds we test they are also identical for
        any number of torch threads (so ``n_jobs`` in a grid search does not
        change the scores), as long as minibatches have at least 12 rows
        and every layer has at least 12 inputs or outputs: smaller matrix
        products take kernels whose rounding depends on the thread count.

    verbose : int, default=0
        What ``fit`` shows while training; nothing when 0.

        - 1: on a terminal, a progress bar with the elapsed time, the time
          left to ``max_iter`` epochs and the last scores (where the
          optional ``tqdm`` package is installed); elsewhere (logs,
          notebooks) a line for the first epoch and every 10th.
        - 2 or more: a line per epoch.

        Either way ``fit`` ends with one line: the epochs run, why training
        stopped, which epoch's weights were kept and the time it took.

    warm_start : bool, default=False
        When True, ``fit`` continues from the weights, the standardisation
        and the optimiser state of the previous fit. Changed training
        parameters take effect: a new ``learning_rate`` or ``alpha`` is
        applied to the existing optimiser, a new ``solver`` starts a fresh
        one. With ``early_stopping``, the same ``X`` gets the same validation
        rows on every warm fit, so rows trained on never become validation
        rows.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained networks: ``module_.encoder``, ``module_.decoder`` and
        ``module_.likelihood``.

    input_mean_ : ndarray of shape (`n_features_in_`,)
        Mean subtracted from each feature (zeros for 'bernoulli').

    input_scale_ : ndarray of shape (`n_features_in_`,)
        Scale dividing each feature (ones for 'bernoulli' and for constant
        features).

    column_likelihoods_ : dict
        With a per-column ``likelihood``: ``"kinds"`` (each column's
        likelihood), ``"levels"`` (the categories of categorical columns,
        None for the others), ``"names"`` and ``"dtypes"`` of the training
        frame's columns.

    variance_floor_ : ndarray of shape (`n_features_in_`,)
        Smallest variance of each feature under p(x | z), in the units of
        ``X`` squared (see ``min_variance``). Not used by 'bernoulli'.

    device_ : str
        Device the model was trained on.

    batch_size_ : int
        Largest minibatch of the last fit (``batch_size`` resolved).

    n_iter_no_change_ : int
        Patience in epochs of the last fit (``n_iter_no_change`` resolved).

    n_iter_ : int
        Epochs run, summed over ``partial_fit`` and warm-started calls.

    loss_curve_ : list of float
        Training loss per epoch: the negative (beta-weighted) lower bound per
        sample, in nats in the units of ``X``.

    validation_scores_ : list of float or None
        Lower bound per sample on the validation rows after each epoch, when
        ``early_stopping`` is True; None otherwise.

    best_validation_score_ : float or None
        Best validation score of the last call to ``fit``; the restored
        weights are those of that epoch. (With ``warm_start``,
        ``validation_scores_`` also holds the earlier fits' scores.)

    epoch_times_ : list of float
        Wall-clock seconds of each epoch.

    lr_decay_epochs_ : list of int
        Epochs after which a plateau divided the learning rate by 3 (see
        ``lr_plateau_decays``), counted like ``n_iter_``.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.decomposition.FactorAnalysis : Linear-Gaussian latent variable
        model, the linear special case of this one.

    References
    ----------
    Kingma, D. P. and Welling, M. (2013). Auto-Encoding Variational Bayes.
    arXiv:1312.6114.

    Burda, Y., Grosse, R. and Salakhutdinov, R. (2015). Importance Weighted
    Autoencoders. arXiv:1509.00519.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VAETransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> vae = VAETransformer(n_components=2, max_iter=5, random_state=0)
    >>> Z = vae.fit_transform(X)
    >>> Z.shape
    (1797, 2)
    >>> vae.score_samples(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": [
            StrOptions(RegisteredNames(FOR_ALL_FEATURES.test, extra=["auto"])),
            list,
            tuple,
            dict,
        ],
        "decoder_variance": [StrOptions(set(VARIANCE_TYPES))],
        "min_variance": [Interval(Real, 0, None, closed="neither")],
        "tail_mass": [Interval(Real, 0, 1, closed="left")],
        "input_scaling": [StrOptions({"auto"}), tuple],
        "init_scale": [Interval(Real, 0, None, closed="neither"), None],
        "beta": [Interval(Real, 0, None, closed="left")],
        "n_mc_samples": [Interval(Integral, 1, None, closed="left")],
        "objective": [StrOptions({"auto", *OBJECTIVES})],
        "solver": [StrOptions(set(OPTIMIZERS))],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "lr_plateau_decays": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "precision": [StrOptions({"float32", "bfloat16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        likelihood="gaussian",
        decoder_variance="per_point",
        min_variance=1e-3,
        tail_mass=0.01,
        input_scaling="auto",
        init_scale=None,
        beta=1.0,
        n_mc_samples=5,
        objective="auto",
        solver="adam",
        batch_size="auto",
        max_iter=1000,
        learning_rate=3e-3,
        alpha=0.0,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change="auto",
        lr_plateau_decays=2,
        tol=1e-4,
        n_importance_samples=64,
        device="auto",
        n_threads=None,
        precision="float32",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.decoder_variance = decoder_variance
        self.min_variance = min_variance
        self.tail_mass = tail_mass
        self.input_scaling = input_scaling
        self.init_scale = init_scale
        self.beta = beta
        self.n_mc_samples = n_mc_samples
        self.objective = objective
        self.solver = solver
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.lr_plateau_decays = lr_plateau_decays
        self.tol = tol
        self.n_importance_samples = n_importance_samples
        self.device = device
        self.n_threads = n_threads
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the VAE to ``X`` by maximising the variational lower bound.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. Row-major (C-ordered) float32 or float64 input is
            trained on without any copy; minibatches are gathered from it.
            Column-major input is copied to row-major once, and other dtypes
            are converted. Missing values (NaN) are left out of the bound;
            with a per-column ``likelihood``, a data frame of mixed types.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : VAETransformer
            The fitted estimator.
        """
        self._check_objective()
        continuing = self.warm_start and hasattr(self, "module_")
        X = self._validate_input(X, reset=not continuing)
        rng = check_random_state(self.random_state)
        if not continuing:
            self._initialize(X, rng)
        train_rows, validation_rows = self._split_rows(X.shape[0], rng)
        history = self._train(X, train_rows, validation_rows, self.max_iter, rng)
        if history.diverged and history.kept_epoch == 0 and not continuing:
            self._forget_fit()
            raise FloatingPointError(
                "Training diverged in the first epoch: the loss became NaN or "
                "infinite, so no usable weights exist. Try a smaller "
                f"learning_rate (now {self.learning_rate:g}); the estimator is "
                "left unfitted."
            )
        early_stopping = validation_rows is not None
        self._record(history, not continuing, early_stopping)
        if self.verbose:
            rule = self._stopping_rule(early_stopping)
            print(describe_stop(history, rule, self.max_iter), flush=True)
        if history.diverged:
            warnings.warn(
                f"Training diverged after {len(history.loss_curve)} epoch(s): the "
                "loss or the weights became NaN or infinite. The weights of epoch "
                f"{history.kept_epoch} of this fit, the last shown to give a finite "
                "loss, were restored; try a smaller learning_rate.",
                ConvergenceWarning,
                stacklevel=3,  # past the _fit_context wrapper
            )
        elif not (history.converged or history.interrupted):
            warnings.warn(
                f"Stopped after max_iter={self.max_iter} epochs before the "
                "stopping rule was met; consider increasing max_iter.",
                ConvergenceWarning,
                stacklevel=3,  # past the _fit_context wrapper
            )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Run one epoch over ``X``, initialising the model on the first call.

        The standardisation is fitted on the first call's ``X`` and kept for
        later calls; early stopping does not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A block of training data.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : VAETransformer
            The updated estimator.
        """
        self._check_objective()
        first_call = not hasattr(self, "module_")
        X = self._validate_input(X, reset=first_call)
        if first_call:
            self._initialize(X, check_random_state(self.random_state))
        rows = np.arange(X.shape[0])
        history = self._train(X, rows, None, 1, self._training_rng)
        self._record(history, first_call, early_stopping=False)
        if history.diverged:
            warnings.warn(
                "partial_fit diverged: the loss became NaN or infinite; the "
                "previous weights were kept. Try a smaller learning_rate.",
                ConvergenceWarning,
                stacklevel=3,  # past the _fit_context wrapper
            )
        return self

    # ------------------------------------------------------------ inference

    def transform(self, X, return_std=False):
        """Encode ``X`` as the posterior mean of q(z | x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        return_std : bool, default=False
            Also return the posterior standard deviation sigma(x).

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Posterior means, in the dtype of ``X`` (float32 or float64).

        Z_std : ndarray of shape (n_samples, n_components)
            Posterior standard deviations; only when ``return_std`` is True.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        mean, std = self._inference().encode(X)
        mean = mean.astype(X.dtype, copy=False)
        return (mean, std.astype(X.dtype, copy=False)) if return_std else mean

    def inverse_transform(self, X):
        """Decode latent codes to the mean of p(x | z) in the units of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            Decoder means: feature values for 'gaussian', values in (0, 1)
            for 'gaussian_sigmoid', probabilities for 'bernoulli'.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        n_components = self._n_features_out
        if Z.shape[1] != n_components:
            raise ValueError(
                f"X has {Z.shape[1]} features, but inverse_transform expects "
                f"latent codes with {n_components} columns (n_components)."
            )
        decoded = self._inference().decode_mean(Z).astype(Z.dtype, copy=False)
        return self._as_table(decoded)

    def sample(self, n_samples=1, random_state=None):
        """Draw from the generative model: z ~ p(z), then x ~ p(x | z).

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to draw.

        random_state : int, RandomState instance or None, default=None
            Seed of the draws. When None, the estimator's ``random_state`` is
            used, so an int ``random_state`` gives the same samples on every
            call, as in :meth:`sklearn.mixture.GaussianMixture.sample`.

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            Samples in the units of the training data (0/1 for 'bernoulli').

        Z : ndarray of shape (n_samples, n_components)
            The latent codes the samples were decoded from, in the place of
            the component labels that ``GaussianMixture.sample`` returns.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer; got {n_samples!r}."
            )
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        data_seed, latent_seed = draw_seed(rng), draw_seed(rng)
        X, Z = self._inference().sample(n_samples, data_seed, latent_seed)
        return self._as_table(X), Z

    def _as_table(self, X):
        """X as a frame like the training one, when fitted on a frame with
        per-column likelihoods; as it is otherwise."""
        return self._likelihood().as_table(X)

    def score_samples(self, X):
        """Estimate log p(x) for each row, in nats, in the units of ``X``.

        The importance-weighted bound with ``n_importance_samples`` draws per
        row (Burda et al., 2015); with one draw it is the ELBO. For the
        Gaussian likelihood the log-Jacobian of the internal standardisation
        is included, so values are densities of the original features. The
        draws are keyed by a seed fixed at fit time and by the row's values,
        so a row's score does not depend on the other rows, their order, or
        how many times it is computed, while different rows get independent
        draws (so the noise of :meth:`score` shrinks with the number of rows).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        log_likelihood : ndarray of shape (n_samples,)
            Lower-bound estimates of log p(x); higher means more typical.
            Rows so far from the data that float64 overflows get ``-inf``.
        """
        return self.row_statistic(X, "importance_weighted")

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`: average log-likelihood per row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Average estimated log p(x) in nats; higher is better.
        """
        return float(np.mean(self.score_samples(X)))

    def impute(self, X, n_draws=None, sample_posterior=False, random_state=None):
        """Fill the missing values (NaN) of X from the model.

        Each missing value gets its conditional mean given the row's observed
        values, E[x_mis | x_obs], by self-normalised importance sampling with
        ``n_draws`` draws of z keyed by the row (the MIWAE imputation of
        Mattei & Frellsen, 2019); or, with ``sample_posterior``, a draw from
        p(x_mis | x_obs). What :class:`VAEImputer` returns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing values as NaN (dense).

        n_draws : int or None, default=None
            Draws of z per row; None uses ``n_importance_samples``.

        sample_posterior : bool, default=False
            Draw the missing values instead of taking their mean.

        random_state : int, RandomState instance or None, default=None
            Seed of the draws with ``sample_posterior``; None uses the
            estimator's ``random_state``, as :meth:`sample` does.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features) or DataFrame
            ``X`` with its missing values filled and its observed values
            unchanged; a frame like the training one when the model was
            fitted on a frame with per-column likelihoods.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(200, 1)) @ np.ones((1, 3))
        >>> X[::4, 0] = np.nan
        >>> vae = VAETransformer(n_components=1, hidden_layer_sizes=(8,),
        ...                      max_iter=20, random_state=0).fit(X)
        >>> bool(np.isnan(vae.impute(X)).any())
        False
        """
        n_draws = self._check_n_draws(n_draws)
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        if hasattr(X, "tocsr"):
            raise ValueError("impute needs dense X; got a sparse matrix.")
        imputed = X.astype(np.float64, copy=True)
        rows = np.flatnonzero(np.isnan(X).any(axis=1))
        if rows.size:
            seed = None
            if sample_posterior:
                rng = check_random_state(
                    self.random_state if random_state is None else random_state
                )
                seed = draw_seed(rng)
            imputed[rows] = self._inference().impute(
                X[rows], self._scoring_seed, n_draws, seed
            )
        return self._as_table(imputed.astype(X.dtype, copy=False))

    # ------------------------------------------------------------ internals

    @property
    def _n_features_out(self):
        return self.module_.n_components

    def row_statistic(self, X, statistic="importance_weighted", n_draws=None):
        """One number per row of X from the fitted model: a bound or a term of it.

        The building blocks of :meth:`score_samples` and of
        :class:`VAEOutlierDetector`'s scores, for users who want another one.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to evaluate.

        statistic : {'importance_weighted', 'elbo', 'reconstruction', \
                'reconstruction_error', 'latent_energy'}, \
                default='importance_weighted'
            - 'importance_weighted': the importance-weighted bound on log p(x)
              (what :meth:`score_samples` returns);
            - 'elbo': the SGVB bound, E_q[log p(x|z)] - KL(q(z|x) || p(z));
            - 'reconstruction': E_q[log p(x|z)], the reconstruction
              probability of An & Cho (2015) on the log scale;
            - 'reconstruction_error': squared error between the standardised
              row and the decoder mean at the posterior mean (no draws; not a
              log-density, so neither the Jacobian nor the sign is adjusted);
            - 'latent_energy': ||E[z|x]||^2 / 2, minus the log prior density
              of the row's code up to a constant (no draws; not adjusted
              either).

        n_draws : int or None, default=None
            Draws of z per row for the first three; None uses
            ``n_importance_samples``.

        Returns
        -------
        values : ndarray of shape (n_samples,)
            Log-densities in nats in the units of X (-inf where a row's
            density underflows). Draws are keyed by row, as in
            :meth:`score_samples`, so a row's value does not depend on the
            other rows.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.RandomState(0).normal(size=(200, 4))
        >>> vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=5,
        ...                      random_state=0).fit(X)
        >>> elbo = vae.row_statistic(X, "elbo")
        >>> bool(np.all(elbo <= vae.row_statistic(X, "importance_weighted") + 1.0))
        True
        """
        if statistic not in ROW_STATISTICS:
            raise ValueError(
                f"statistic must be one of {sorted(ROW_STATISTICS)}; got {statistic!r}."
            )
        n_draws = self._check_n_draws(n_draws)
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        return self._inference().row_statistic(
            X, statistic, self._scoring_seed, n_draws
        )

    def _check_n_draws(self, n_draws):
        """``n_draws`` checked; None is ``n_importance_samples``."""
        if n_draws is None:
            return self.n_importance_samples
        if not isinstance(n_draws, Integral) or n_draws < 1:
            raise ValueError(f"n_draws must be a positive integer; got {n_draws!r}.")
        return n_draws

    def _training_objective(self):
        """The objective trained on: 'auto' resolved."""
        if self.objective == "auto":
            return "iwae" if self.beta == 1 else "elbo"
        return self.objective

    def _check_objective(self):
        objective = OBJECTIVES.get(self.objective)  # None for 'auto'
        if objective is not None and not objective.weights_kl and self.beta != 1:
            raise ValueError(
                f"objective={self.objective!r} has no KL term for beta to "
                f"weight; got beta={self.beta!r}. Use beta=1.0, or "
                "objective='elbo' for a beta-VAE."
            )

    def _likelihood(self, reset=False):
        """The likelihood the model reads X with: the fitted model's, or,
        when a fit begins (``reset``) or before the first fit, the
        parameter's (see :class:`~skvae._tabular.ResolvedLikelihood`)."""
        columns = getattr(self, "column_likelihoods_", None)
        if reset or not hasattr(self, "_architecture"):
            return ResolvedLikelihood.of(self.likelihood, columns)
        return ResolvedLikelihood.of(self._architecture["likelihood"], columns)

    def _validate_table(self, X, reset):
        """A table with per-column likelihoods, as the float matrix the model
        reads (see :mod:`skvae._tabular`)."""
        validate_data(self, X, skip_check_array=True, reset=reset)
        if hasattr(X, "tocsr"):
            raise ValueError(
                "Per-column likelihoods need a dense table (a data frame or "
                "array); got a sparse matrix."
            )
        if not hasattr(X, "shape") or len(X.shape) != 2:
            X = check_array(X, dtype=None, ensure_all_finite="allow-nan")
        if reset:
            self.column_likelihoods_ = fit_columns(X, self.likelihood).as_dict()
        matrix = check_array(
            self._likelihood(reset).encode(X),
            dtype=np.float64,
            ensure_all_finite="allow-nan",
            input_name="X",
        )
        check_rows_have_values(matrix)
        return matrix

    def _validate_input(self, X, reset):
        """X as the model reads it, checked for the likelihood (the
        parameter's when ``reset``, the fitted model's otherwise)."""
        likelihood = self._likelihood(reset)
        if likelihood.per_column:
            return self._validate_table(X, reset)
        if reset and hasattr(self, "column_likelihoods_"):
            del self.column_likelihoods_  # of an earlier per-column fit
        check_numeric_columns(X)
        X = validate_data(
            self,
            X,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
            reset=reset,
        )
        check_rows_have_values(X)
        likelihood.check(X)
        return X

    def _hidden_sizes(self):
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        if sizes.size and (
            sizes.ndim != 1
            or not np.issubdtype(sizes.dtype, np.integer)
            or np.any(sizes < 1)
        ):
            raise ValueError(
                "hidden_layer_sizes must be a sequence of positive integers; "
                f"got {self.hidden_layer_sizes!r}."
            )
        return [int(size) for size in sizes]

    def _initialize(self, X, rng):
        """Fit the standardisation, build the networks and draw the seeds."""
        likelihood = self._likelihood(reset=True)
        self.input_mean_, self.input_scale_, floor = fit_scaling(
            X,
            likelihood.standardizes,
            self.min_variance,
            self._given_scaling(X.shape[1], likelihood),
        )
        self.variance_floor_ = floor * self.input_scale_**2
        if self.n_components > X.shape[1]:
            warnings.warn(
                f"n_components={self.n_components} is larger than the number of "
                f"features ({X.shape[1]}): the extra latent dimensions have "
                "nothing to describe and usually lower the held-out "
                "log-likelihood. Consider n_components <= n_features.",
                UserWarning,
                stacklevel=4,
            )
        self._architecture = dict(
            missing_indicator=has_missing(X),
            n_features=X.shape[1],
            n_components=self.n_components,
            hidden_layer_sizes=self._hidden_sizes(),
            activation=self.activation,
            min_variance=floor.tolist(),
            decoder_variance=self.decoder_variance,
            tail_mass=float(self.tail_mass),
            **likelihood.model_settings(),
        )
        init_generator = make_generator(draw_seed(rng), resolve_device("cpu"))
        self.module_ = build_vae(
            **self._architecture, generator=init_generator, init_scale=self.init_scale
        )
        self._scoring_seed = draw_seed(rng)
        self._split_seed = draw_seed(rng)
        self._training_rng = rng  # continued by partial_fit
        self._optimizer = None  # made by current_optimizer on the first epoch
        self._optimizer_state = None

    def _given_scaling(self, n_features, likelihood):
        """``input_scaling`` checked: None for 'auto', else (mean, scale)."""
        if isinstance(self.input_scaling, str):
            return None
        if likelihood.per_column or not likelihood.standardizes:
            raise ValueError(
                f"likelihood={self.likelihood!r} reads X as given, so "
                "input_scaling must be 'auto'; got a (mean, scale) pair."
            )
        return check_scaling(self.input_scaling, n_features)

    def _split_rows(self, n_samples, rng):
        """Training rows and validation rows (None without early stopping)."""
        split_seed = getattr(self, "_split_seed", None)
        return split_rows(
            n_samples, self.early_stopping, self.validation_fraction, split_seed, rng
        )

    def _train(self, X, train_rows, validation_rows, max_epochs, rng):
        device = resolve_device(self.device)  # again: a loaded model may move
        self.device_ = str(device)
        self.module_.to(device)
        self._optimizer = self._current_optimizer()
        self._optimizer_state = None
        self._resolve_schedule(len(train_rows))
        settings = TrainingSettings(
            batch_size=self.batch_size_,
            n_mc_samples=self.n_mc_samples,
            beta=self.beta,
            objective=self._training_objective(),
            precision=self.precision,
            rule=self._stopping_rule(validation_rows is not None),
            threads=self._thread_count(device),
            verbose=self.verbose,
        )
        return fit_rows(
            self.module_,
            self._optimizer,
            X,
            self.input_mean_,
            self.input_scale_,
            train_rows,
            validation_rows,
            max_epochs,
            settings,
            rng,
        )

    def _current_optimizer(self):
        """The optimiser for the current solver, learning_rate and alpha, with
        the state of the last one (see :func:`~skvae._training.current_optimizer`)."""
        return current_optimizer(
            self._optimizer,
            self._optimizer_state,
            self.module_,
            self.solver,
            self.learning_rate,
            self.alpha,
        )

    def _resolve_schedule(self, n_train):
        """``batch_size_`` and ``n_iter_no_change_``: the parameters, or their
        'auto' rules for ``n_train`` training rows (see
        :func:`~skvae._training.automatic_batch_size`)."""
        self.batch_size_ = (
            automatic_batch_size(n_train)
            if self.batch_size == "auto"
            else int(self.batch_size)
        )
        self.n_iter_no_change_ = (
            automatic_patience(n_train, self.batch_size_)
            if self.n_iter_no_change == "auto"
            else int(self.n_iter_no_change)
        )

    def _stopping_rule(self, early_stopping):
        return StoppingRule(
            self.tol, self.n_iter_no_change_, early_stopping, self.lr_plateau_decays
        )

    def _forget_fit(self):
        """Drop every fitted attribute, leaving an unfitted estimator."""
        private_state = {
            "_architecture",
            "_scoring_seed",
            "_split_seed",
            "_training_rng",
            "_optimizer",
            "_optimizer_state",
        }
        for name in list(vars(self)):
            if name in private_state or (name.endswith("_") and name[0] != "_"):
                delattr(self, name)

    def _record(self, history, reset, early_stopping):
        if reset:
            self.n_iter_ = 0
            self.loss_curve_ = []
            self.epoch_times_ = []
            self.lr_decay_epochs_ = []
            self.validation_scores_ = [] if early_stopping else None
        self.lr_decay_epochs_ += [self.n_iter_ + e for e in history.lr_decay_epochs]
        self.n_iter_ += len(history.loss_curve)
        self.loss_curve_ += history.loss_curve
        self.epoch_times_ += history.epoch_times
        if early_stopping and self.validation_scores_ is not None:
            self.validation_scores_ += history.validation_scores
        # The weights kept are the best of this call's epochs, not of
        # earlier warm-started calls, so the score reported is this call's.
        scores = history.validation_scores
        self.best_validation_score_ = max(scores) if scores else None

    def _inference(self):
        """The fitted model, in float64, run over row blocks (see
        :class:`~skvae._inference.Inference`)."""
        device = next(self.module_.parameters()).device
        advice = f"n_importance_samples={self.n_importance_samples}"
        return Inference.of(
            self.module_,
            self.input_mean_,
            self.input_scale_,
            self._thread_count(device),
            advice,
        )

    def _thread_count(self, device):
        """Torch's thread count for this network, in training and inference
        alike (see ``n_threads``)."""
        return network_thread_count(
            self.module_, self.n_threads, device, self.batch_size_, self.n_mc_samples
        )

    def __getstate__(self):
        """Pickle weights and optimiser state as torch-serialised bytes.

        The bytes hold tensors only and are read back with
        ``torch.load(weights_only=True)`` onto the CPU, so a model fitted on a
        GPU loads on any machine.
        """
        state = self.__dict__.copy()
        if "module_" in state:
            state["module_"] = state_to_bytes(self.module_.state_dict())
            optimizer = self._current_optimizer()
            state["_optimizer"] = state_to_bytes(optimizer.state_dict())
            state["_optimizer_state"] = None
        return state

    def __setstate__(self, state):
        # skvae 0.1 wrote no decoder_variance: its Gaussian models had one
        # variance per feature, whatever the default is now.
        state.setdefault("decoder_variance", "per_feature")
        # ... and skvae 0.2 had no background part in its Gaussian models.
        state.setdefault("tail_mass", 0.0)
        if "_architecture" in state:
            architecture = state["_architecture"]
            architecture.setdefault("decoder_variance", "per_feature")
            architecture.setdefault("tail_mass", 0.0)
            # ... and a floor of min_variance alone, in the model's units.
            if "variance_floor_" not in state:
                floor = architecture["min_variance"]
                state["variance_floor_"] = floor * state["input_scale_"] ** 2
            state.setdefault("lr_decay_epochs_", [])
            # ... and 0.2 and earlier trained on a fixed batch_size (128 by
            # default), which the thread choice of inference reads.
            state.setdefault("batch_size_", state.get("batch_size", 128))
        # Other parameters added after the pickle was written take their defaults.
        for name, parameter in inspect.signature(type(self)).parameters.items():
            state.setdefault(name, parameter.default)
        self.__dict__.update(state)
        if isinstance(state.get("module_"), bytes):
            self.module_ = rebuild_vae(self._architecture, state["module_"])
            self._optimizer = None
            self._optimizer_state = state_from_bytes(state["_optimizer"])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        return tags
