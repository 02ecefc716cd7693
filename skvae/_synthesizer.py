"""VAESynthesizer: synthetic tables drawn from a VAE fitted on a real one.

A face over a :class:`~skvae.VAETransformer` with per-column likelihoods,
held by composition. ``fit`` turns the table into what the VAE models
(datetimes as seconds, one missing-value indicator per column with gaps)
and records what the output must respect (each numeric column's range and
recording precision, its dtype); ``sample`` draws rows from the VAE, or
from its conditional given some columns, and turns them back.

pandas is imported only inside the methods: ``import skvae`` needs none.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._estimator import VAETransformer
from ._tabular import ResolvedLikelihood, infer_kind

# The VAE of VAESynthesizer(vae=None); n_components follows the table
# (_latent_size). Chosen on the 11 development tables of
# benchmarks/synthetic.py by leave-tables-out (docs/synthetic.rst): half the
# modelled columns beat 2 latent dimensions (mean quality 0.921 against
# 0.912, TSTR 0.789 against 0.744) and all of them (0.918, 0.765); no
# background part in the Gaussian likelihood (tail_mass=0: it draws 1% of
# each Gaussian column's values from its marginal, noise in a synthetic
# row) was chosen on every fold; 3 draws in the training bound and one
# learning-rate decay make a fit 1.6x faster for 0.009 of quality (0.916
# against tail_mass=0's 0.925), which takes the fits under half of TVAE's
# time (0.40x, where 5 draws and two decays took 0.65x). Counts are then
# modelled as numbers (see fit): 0.937 against 0.916 with Poisson counts,
# TSTR 0.800 against 0.772, chosen on every fold.
_DEFAULT_VAE = dict(
    tail_mass=0.0,
    n_mc_samples=3,
    lr_plateau_decays=1,
    n_threads=1,
)

# Text columns with more distinct values than this share of their rows (and
# more than _MAX_TEXT_LEVELS) are free text or identifiers, not categories.
_TEXT_LEVEL_SHARE = 0.5
_MAX_TEXT_LEVELS = 50

# A datetime column with at most this many distinct values, and at most
# _DATETIME_LEVEL_SHARE of its rows, takes only those values (years, dates
# of a survey's waves): the VAE models it as a category of them.
_MAX_DATETIME_LEVELS = 100
_DATETIME_LEVEL_SHARE = 0.1

# Recording precision: the fewest decimals (up to this many) that reproduce
# every observed value of a float column.
_MAX_DECIMALS = 6

_MISSING_SUFFIX = "__missing"


def _latent_size(n_columns: int) -> int:
    """n_components of the default VAE for a table of ``n_columns`` modelled
    columns (missing-value indicators included)."""
    return int(min(16, max(2, math.ceil(n_columns / 2))))


class VAESynthesizer(BaseEstimator):
    """Synthetic tables from a variational auto-encoder.

    ``fit`` learns a :class:`VAETransformer` with one likelihood per column
    (``likelihood='auto'``'s rule: categories, booleans, numbers) on a real
    table; ``sample`` draws new rows from it, z ~ p(z) and then each column
    from p(x | z), and returns a table like the training one: the same
    columns in the same order, dtypes and category levels.

    - Numeric columns stay inside their observed range and keep their
      recording precision: integer columns stay integers, and a column
      recorded to the cent keeps two decimals.
    - Datetime columns are modelled as seconds and come back as datetimes,
      at the resolution they were recorded at (days, seconds, ...).
    - Missing values are modelled, not dropped: each column with gaps gets
      a missing-value indicator that the VAE learns jointly with the values,
      so gaps come back at their observed rates, with their co-occurrence
      and with their links to the other columns (``missing_values='keep'``).
    - A column with a single value (a one-level category, a constant number)
      comes back as that value, with probability 1; unused category levels
      are kept in the dtype.
    - ``sample(n, conditions=...)`` fixes some columns and draws the others
      from their conditional given them, p(rest | fixed), as
      :class:`VAEImputer` does with ``sample_posterior=True``.

    The same ``random_state`` gives the same fitted model and the same
    synthetic table on a CPU.

    Parameters
    ----------
    vae : VAETransformer or None, default=None
        The model, cloned at fit time. Unless its ``likelihood`` is already
        one per column ('auto', a list, or a dict of overrides naming
        columns), it is set to 'auto' with counts as numbers: integer
        columns that 'auto' would model as Poisson counts get a Gaussian
        (whose per-point variance follows their spread; a Poisson's variance
        is its mean), and their draws are rounded. A column with gaps gets
        an indicator column named ``<column>__missing``, which a dict may
        also name. None: ``VAETransformer(tail_mass=0.0, n_mc_samples=3,
        lr_plateau_decays=1, n_threads=1)`` with
        ``n_components`` half the number of modelled columns (indicators
        included), at least 2 and at most 16, its other parameters at their
        defaults (see the documentation's page on synthetic tables for how
        they were chosen).

    missing_values : {'keep', 'drop'}, default='keep'
        'keep' models where values are missing and draws gaps at their
        learned rates; 'drop' draws a value for every cell.

    n_importance_samples : int, default=100
        Draws of z per row behind a conditional sample (sampling importance
        resampling from q(z | fixed columns)).

    random_state : int, RandomState instance or None, default=None
        Seeds the VAE (overriding its own ``random_state``) and, when
        ``sample`` is given no ``random_state``, the draws.

    Attributes
    ----------
    vae_ : VAETransformer
        The fitted model, on the table as it models it (see ``fit``).

    n_features_in_ : int
        Number of columns seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of columns seen during fit, when ``X`` has string column names.

    See Also
    --------
    VAETransformer : The model; its ``sample`` draws rows without the
        table's dtypes, ranges or gaps.
    VAEImputer : Fills a table's gaps from the same kind of model.

    References
    ----------
    Kingma, D. P. and Welling, M. (2013). Auto-Encoding Variational Bayes.
    arXiv:1312.6114.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skvae import VAESynthesizer, VAETransformer
    >>> rng = np.random.RandomState(0)
    >>> table = pd.DataFrame({
    ...     "size": rng.choice(["S", "M", "L"], 200),
    ...     "price": rng.uniform(5, 20, 200).round(2),
    ...     "units": rng.poisson(3, 200),
    ... })
    >>> small = VAETransformer(n_components=2, hidden_layer_sizes=(16,), max_iter=20)
    >>> synthesizer = VAESynthesizer(small, random_state=0).fit(table)
    >>> fake = synthesizer.sample(5)
    >>> list(fake.columns), fake["units"].dtype.kind
    (['size', 'price', 'units'], 'i')
    >>> bool(fake["price"].between(table["price"].min(), table["price"].max()).all())
    True
    >>> adults = synthesizer.sample(3, conditions={"size": "L"})
    >>> adults["size"].tolist()
    ['L', 'L', 'L']
    """

    _parameter_constraints: dict = {
        "vae": [VAETransformer, None],
        "missing_values": [StrOptions({"keep", "drop"})],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        vae=None,
        *,
        missing_values="keep",
        n_importance_samples=100,
        random_state=None,
    ):
        self.vae = vae
        self.missing_values = missing_values
        self.n_importance_samples = n_importance_samples
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the VAE to the table ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The real table: a pandas or polars data frame (columns of any
            numeric, boolean, category, text or datetime dtype, with missing
            values), or an array. Free text and identifiers (text columns
            with about one distinct value per row) are refused.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : VAESynthesizer
            The fitted synthesizer.
        """
        frame, self._output = _as_frame(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        if frame.shape[1] < 1:
            raise ValueError(
                f"Found a table with 0 feature(s) (shape={frame.shape}) while a "
                "minimum of 1 is required."
            )
        if frame.shape[0] < 2:
            raise ValueError(
                f"VAESynthesizer needs at least 2 rows; got n_samples={len(frame)}."
            )
        self._columns = [
            _plan_column(name, frame[name], self.missing_values == "keep")
            for name in frame.columns
        ]
        taken = {str(name) for name in frame.columns}
        for plan in self._columns:  # indicator names that clash with none
            while plan["indicator"] is not None and plan["indicator"] in taken:
                plan["indicator"] += "_"
            taken.add(plan["indicator"])
        self._names = list(frame.columns)
        model_frame = self._to_model(frame)
        if self.vae is None:
            n_components = _latent_size(model_frame.shape[1])
            vae = VAETransformer(n_components=n_components, **_DEFAULT_VAE)
        else:
            vae = clone(self.vae)
        if not ResolvedLikelihood.is_per_column(vae.likelihood):
            # 'auto', with counts as numbers: a Poisson's variance is its
            # mean, and real counts (ages, tenures, games won) spread more or
            # less than that; the draws are rounded and kept in range anyway.
            counts = [
                name
                for name in model_frame.columns
                if infer_kind(model_frame[name]) == "poisson"
            ]
            vae.set_params(likelihood=dict.fromkeys(counts, "gaussian"))
        if self.random_state is not None:
            seed = check_random_state(self.random_state).randint(2**32, dtype=np.int64)
            vae.set_params(random_state=int(seed))
        self.vae_ = vae.fit(model_frame)
        return self

    def sample(self, n_samples=1, *, conditions=None, random_state=None):
        """Draw synthetic rows.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.

        conditions : dict, DataFrame or None, default=None
            Columns to fix: a dict {column: value} fixes them in every row;
            a data frame with ``n_samples`` rows fixes its columns row by row
            (a missing value there fixes the cell as missing). The other
            columns are drawn from their conditional given the fixed ones.
            None draws whole rows from the model.

        random_state : int, RandomState instance or None, default=None
            Seed of the draws; None uses the synthesizer's ``random_state``,
            so an int gives the same rows on every call, as in
            :meth:`VAETransformer.sample`.

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, `n_features_in_`)
            Synthetic rows, of the type fitted on (a pandas or polars data
            frame with the training columns and dtypes, or an array).
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer; got {n_samples!r}."
            )
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        seed = int(rng.randint(2**32, dtype=np.int64))
        if conditions is None:
            drawn, _ = self.vae_.sample(n_samples, random_state=seed)
            return self._from_model(drawn, None)
        fixed = self._conditions(conditions, n_samples)
        model_fixed = self._to_model(fixed, partial=True)
        drawn = self.vae_.impute(
            model_fixed,
            self.n_importance_samples,
            sample_posterior=True,
            random_state=seed,
        )
        return self._from_model(drawn, fixed)

    # ------------------------------------------------------------ internals

    def _to_model(self, frame, partial=False):
        """The table as the VAE models it: datetimes as seconds, and an
        indicator column after each column with gaps. With ``partial``
        (conditions), columns absent from ``frame`` are all missing."""
        import pandas as pd

        n_rows = len(frame)
        data = {}
        indicators = {}
        for plan in self._columns:
            name = plan["name"]
            if name in frame.columns:
                values = frame[name].reset_index(drop=True)
            else:
                values = pd.Series([None] * n_rows, dtype=object)
            data[plan["model_name"]] = _column_to_model(values, plan)
            if plan["indicator"] is not None:
                flags = pd.Series(values.isna().to_numpy(), dtype=object)
                if name not in frame.columns:  # to be drawn
                    flags[:] = None
                indicators[plan["indicator"]] = flags if partial else flags.astype(bool)
        return pd.DataFrame({**data, **indicators})

    def _from_model(self, drawn, fixed):
        """Synthetic rows back in the training table's form."""
        import pandas as pd

        columns = {}
        for plan in self._columns:
            values = _column_from_model(drawn[plan["model_name"]], plan)
            if plan["indicator"] is not None:
                gaps = drawn[plan["indicator"]].to_numpy().astype(bool)
                values = _with_gaps(values, gaps, plan)
            if fixed is not None and plan["name"] in fixed.columns:
                given = fixed[plan["name"]].reset_index(drop=True)
                values = given.astype(values.dtype)  # pandas 3 copies lazily
            columns[plan["name"]] = values
        table = pd.DataFrame(columns)
        table.columns = self._names
        if self._output == "polars":
            import polars as pl

            return pl.from_pandas(table)
        if self._output == "array":
            return table.to_numpy()
        return table

    def _conditions(self, conditions, n_samples):
        """``conditions`` as a frame of ``n_samples`` rows of fixed columns."""
        import pandas as pd

        if isinstance(conditions, dict):
            fixed = pd.DataFrame(
                {name: [value] * n_samples for name, value in conditions.items()}
            )
        else:
            fixed, _ = _as_frame(conditions)
            if len(fixed) != n_samples:
                raise ValueError(
                    f"conditions has {len(fixed)} rows; a frame of conditions "
                    f"needs one per sample ({n_samples})."
                )
            fixed = fixed.reset_index(drop=True)
        unknown = [name for name in fixed.columns if name not in self._names]
        if unknown:
            raise ValueError(
                f"conditions names columns the synthesizer was not fitted on: "
                f"{unknown}; its columns are {self._names}."
            )
        if not len(fixed.columns):
            raise ValueError("conditions must fix at least one column.")
        for plan in self._columns:
            name = plan["name"]
            if (
                name in fixed.columns
                and plan["indicator"] is None
                and fixed[name].isna().any()
            ):
                raise ValueError(
                    f"conditions fixes column {name!r} as missing, but it had "
                    "no missing values in the training table (or "
                    "missing_values='drop')."
                )
        return fixed

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


def _as_frame(X):
    """(pandas frame, the kind of output to give back: 'pandas', 'polars'
    or 'array'). A frame is used as it is (never modified); an array gets
    the columns 0, 1, ..."""
    import pandas as pd

    if hasattr(X, "iloc") and hasattr(X, "columns"):
        return X, "pandas"
    if hasattr(X, "to_pandas") and hasattr(X, "columns"):
        return X.to_pandas(), "polars"
    if hasattr(X, "tocsr"):
        raise TypeError("VAESynthesizer needs a dense table; got a sparse matrix.")
    array = check_array(
        X, dtype=None, ensure_all_finite="allow-nan", ensure_min_samples=0
    )
    return pd.DataFrame(array), "array"


def _plan_column(name, values, keep_missing: bool) -> dict:
    """What fit learns of one column: how the VAE sees it and what the
    output must respect. Built-in types only (pickles, skops)."""
    import pandas as pd

    dtype = values.dtype
    plan = dict(
        name=name,
        model_name=str(name),
        dtype=str(dtype),
        kind="other",
        low=None,
        high=None,
        decimals=None,
        step=None,
        timezone=None,
        indicator=None,
        levels=None,
    )
    observed = values.dropna()
    if observed.empty:
        raise ValueError(
            f"Column {name!r} has no observed value: drop it, there is nothing "
            "to learn from it."
        )
    if keep_missing and len(observed) < len(values):
        plan["indicator"] = f"{name}{_MISSING_SUFFIX}"
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        seconds = _datetime_seconds(observed)
        n_levels = len(np.unique(seconds))
        discrete = n_levels <= min(
            _MAX_DATETIME_LEVELS, _DATETIME_LEVEL_SHARE * len(observed)
        )
        plan.update(
            kind="datetime_levels" if discrete else "datetime",
            levels=np.unique(seconds).tolist() if discrete else None,
            low=float(seconds.min()),
            high=float(seconds.max()),
            step=_datetime_step(observed),
            timezone=str(getattr(dtype, "tz", None) or "") or None,
        )
    elif isinstance(dtype, pd.CategoricalDtype):
        # The dtype's levels, unused ones too, come back in the output's
        # dtype; the VAE models the levels the column uses.
        plan.update(
            kind="category",
            levels=list(dtype.categories),
            ordered=bool(dtype.ordered),
        )
    elif pd.api.types.is_bool_dtype(dtype):
        plan["kind"] = "category"
    elif pd.api.types.is_numeric_dtype(dtype):
        numbers = observed.to_numpy(dtype=np.float64)
        plan.update(
            kind="integer" if pd.api.types.is_integer_dtype(dtype) else "float",
            low=float(numbers.min()),
            high=float(numbers.max()),
            decimals=0 if pd.api.types.is_integer_dtype(dtype) else _decimals(numbers),
        )
    else:
        plan["kind"] = "category"
        n_levels = observed.astype(str).nunique()
        if n_levels > max(_MAX_TEXT_LEVELS, _TEXT_LEVEL_SHARE * len(observed)):
            raise ValueError(
                f"Column {name!r} looks like free text or an identifier: "
                f"{n_levels} distinct values in {len(observed)} rows. A VAE "
                "cannot model it; drop it, or turn it into a category with "
                "fewer levels (e.g. its first word, or a bin)."
            )
    return plan


def _decimals(numbers: np.ndarray) -> int | None:
    """The fewest decimals that reproduce every value (None: more than
    ``_MAX_DECIMALS``, a continuous column)."""
    scale = np.maximum(np.abs(numbers), 1.0)
    for decimals in range(_MAX_DECIMALS + 1):
        if np.all(np.abs(np.round(numbers, decimals) - numbers) <= 1e-9 * scale):
            return decimals
    return None


def _datetime_seconds(values) -> np.ndarray:
    """Seconds since 1970 of datetimes (time-zone aware ones in UTC)."""
    import pandas as pd

    stamps = pd.to_datetime(values)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    nanoseconds = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return nanoseconds.astype(np.float64) / 1e9


def _datetime_step(observed) -> float:
    """The coarsest of day, hour, minute, second and nanosecond that every
    observed datetime sits on, in seconds."""
    seconds = _datetime_seconds(observed)
    for step in (86400.0, 3600.0, 60.0, 1.0):
        if np.all(np.mod(seconds, step) == 0):
            return step
    return 1e-9


def _column_to_model(values, plan):
    """One column as the VAE reads it: datetimes as seconds since 1970, as
    a category of them when the column takes few values."""
    if plan["kind"] not in ("datetime", "datetime_levels"):
        if hasattr(values, "cat"):  # a category dtype: the levels it uses
            values = values.cat.remove_unused_categories()
        return values
    import pandas as pd

    seconds = np.full(len(values), np.nan)
    present = values.notna().to_numpy()
    if present.any():
        seconds[present] = _datetime_seconds(values[present])
    if plan["kind"] == "datetime_levels":
        return pd.Series(pd.Categorical(seconds, categories=plan["levels"]))
    return pd.Series(seconds)


def _column_from_model(values, plan):
    """A drawn column back in the training column's kind, range, precision
    and dtype."""
    import pandas as pd

    kind = plan["kind"]
    if kind in ("datetime", "datetime_levels"):
        seconds = np.asarray(values, dtype=np.float64)
        if kind == "datetime":
            seconds = np.clip(seconds, plan["low"], plan["high"])
            seconds = np.round(seconds / plan["step"]) * plan["step"]
        stamps = pd.to_datetime(np.round(seconds * 1e9).astype(np.int64), unit="ns")
        series = pd.Series(stamps)
        if plan["timezone"]:
            series = series.dt.tz_localize("UTC").dt.tz_convert(plan["timezone"])
        return series.astype(plan["dtype"]) if not plan["timezone"] else series
    if kind in ("integer", "float"):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        numbers = np.clip(numbers, plan["low"], plan["high"])
        if plan["decimals"] is not None:
            numbers = np.round(numbers, plan["decimals"])
        series = pd.Series(numbers)
        try:
            return series.astype(plan["dtype"])
        except (TypeError, ValueError):
            return series  # e.g. an integer column drawn with gaps
    series = pd.Series(values).reset_index(drop=True)
    dtype = plan["dtype"]
    if plan["levels"] is not None:
        dtype = pd.CategoricalDtype(plan["levels"], ordered=plan["ordered"])
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series


def _with_gaps(values, gaps, plan):
    """``values`` with the cells of ``gaps`` missing, in a dtype that can
    hold them (an integer column becomes nullable, a boolean one object)."""
    if not gaps.any():
        return values
    if values.dtype.kind in "iu":
        values = values.astype("Int64" if values.dtype.kind == "i" else "UInt64")
    elif values.dtype.kind == "b":
        values = values.astype(object)
    return values.mask(gaps)
