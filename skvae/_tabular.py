"""The ``likelihood`` parameter resolved, and tables of mixed column types:
which likelihood each column gets, and the numeric matrix the model reads.

:class:`ResolvedLikelihood` is what the estimator asks about its likelihood:
the registry name of the model's likelihood, the data checks, the
standardisation flags and, per column, the encoding and decoding of a table.

A per-column specification (``likelihood="auto"``, a list or a dict) is
resolved once, at the first fit, into a :class:`ColumnSpec`: the kind of each
column, the levels of categorical columns and, for a data frame, its column
names and dtypes. :func:`encode` turns a table into a float matrix (missing
values NaN, categories as level codes 0, 1, ...); :func:`decode` turns such a
matrix back into a frame with the original columns, dtypes and levels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._likelihoods import FOR_A_COLUMN, LIKELIHOODS, standardized_columns

# Integer columns with at most MAX_LEVELS distinct values are categorical;
# other non-negative ones below MAX_COUNT are counts (Poisson); the rest are
# Gaussian. On the cars table, a Poisson model of its 5 cylinder counts
# (3 to 8, far less spread than a Poisson's) cost 1.4 nats per row against
# their frequencies.
MAX_LEVELS = 10
MAX_COUNT = 1000


@dataclass
class ColumnSpec:
    """What the model knows of each column of a table.

    Only built-in types inside (:meth:`as_dict` is what the estimator keeps,
    so skops and MLflow need to trust no class of skvae's for it).
    """

    kinds: list[str]
    levels: list[list | None]  # the categories of categorical columns
    names: list[str] | None = None  # a frame's column names
    dtypes: list[str] = field(default_factory=list)  # a frame's dtypes, as text

    @property
    def n_levels(self) -> list[int]:
        return [0 if levels is None else len(levels) for levels in self.levels]

    def as_dict(self) -> dict:
        return dict(
            kinds=self.kinds, levels=self.levels, names=self.names, dtypes=self.dtypes
        )


@dataclass(frozen=True)
class ResolvedLikelihood:
    """The estimator's ``likelihood``, resolved: one registered likelihood
    for every feature (``columns`` None), or one per column of a table
    (``name`` 'mixed', with the columns' :class:`ColumnSpec`).

    Built from the parameter when a fit begins and from the fitted model
    afterwards (see :meth:`of`), so a later ``set_params`` cannot change
    how a fitted model reads its data.
    """

    name: str  # a key of LIKELIHOODS
    columns: ColumnSpec | None = None

    @staticmethod
    def is_per_column(likelihood) -> bool:
        """Whether the parameter gives each column its own likelihood."""
        return not isinstance(likelihood, str) or likelihood == "auto"

    @classmethod
    def of(cls, likelihood, column_likelihoods=None) -> ResolvedLikelihood:
        """From a ``likelihood`` parameter or a fitted model's registry name
        ('mixed' per column), with the fitted ``column_likelihoods_``."""
        if not cls.is_per_column(likelihood) and likelihood != "mixed":
            return cls(likelihood)
        spec = None if column_likelihoods is None else ColumnSpec(**column_likelihoods)
        return cls("mixed", spec)

    @property
    def per_column(self) -> bool:
        return self.name == "mixed"

    @property
    def standardizes(self) -> bool | np.ndarray:
        """Whether X is standardised before the model reads it: one flag, or
        one per column."""
        if self.per_column:
            return standardized_columns(self.columns.kinds)
        return LIKELIHOODS[self.name].standardizes_input

    def model_settings(self) -> dict:
        """The likelihood's part of the model's architecture."""
        if not self.per_column:
            return dict(likelihood=self.name)
        return dict(
            likelihood=self.name,
            column_kinds=self.columns.kinds,
            n_levels=self.columns.n_levels,
        )

    def check(self, X) -> None:
        """The likelihood's own data check on a numeric X (one likelihood for
        every feature; a table's columns are checked by :meth:`encode`)."""
        LIKELIHOODS[self.name].check_data(X, self.name)

    def encode(self, X) -> np.ndarray:
        """A table as the float matrix the model reads (see :func:`encode`)."""
        return encode(X, self.columns)

    def as_table(self, matrix):
        """A matrix in the model's columns as the user's data: a frame like
        the training one when the model was fitted on a frame per column; an
        array with categorical columns' codes turned back into their levels
        when fitted on an array per column; as it is otherwise."""
        if self.columns is None:
            return matrix
        if self.columns.names is None:
            return decode_array(matrix, self.columns)
        return decode(matrix, self.columns)


def _columns(X):
    """(name, values) of each column of a frame or a 2-D array."""
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # pandas
        return [(str(name), X[name]) for name in X.columns]
    if hasattr(X, "columns") and hasattr(X, "get_column"):  # polars
        return [(name, X.get_column(name).to_pandas()) for name in X.columns]
    X = np.asarray(X)
    return [(None, X[:, j]) for j in range(X.shape[1])]


def infer_kind(values) -> str:
    """The likelihood ``likelihood="auto"`` gives a column.

    category, object and string columns: 'categorical'; booleans:
    'bernoulli'; floats: 'gaussian'. Integers are ambiguous: 0/1 columns are
    'bernoulli', columns with at most ``MAX_LEVELS`` distinct values
    'categorical' (their values are the levels), other non-negative ones
    below ``MAX_COUNT`` counts ('poisson'), and the others (large or
    negative values) 'gaussian'.
    """
    dtype = getattr(values, "dtype", None)
    kind = getattr(dtype, "kind", None)
    name = str(dtype)
    if name in ("category", "string", "str") or kind in ("O", "U", "S"):
        return "categorical"
    if name == "boolean" or kind == "b":
        return "bernoulli"
    if kind in ("i", "u") or name in ("Int8", "Int16", "Int32", "Int64", "UInt8"):
        observed = np.asarray(values.dropna() if hasattr(values, "dropna") else values)
        observed = observed.astype(np.float64)
        distinct = np.unique(observed)
        if observed.size and set(distinct) <= {0.0, 1.0}:
            return "bernoulli"
        if len(distinct) <= MAX_LEVELS:
            return "categorical"
        if observed.size and observed.min() >= 0 and observed.max() < MAX_COUNT:
            return "poisson"
    return "gaussian"


def fit_columns(X, likelihood) -> ColumnSpec:
    """Resolve a per-column ``likelihood`` on the training table X.

    ``likelihood`` is 'auto', a list with one kind per column, or a dict
    {column name or index: kind} (other columns get 'auto''s choice).
    Under 'auto', a column with a single observed value is 'constant'; so
    is a column given 'categorical' with a single level.
    """
    columns = _columns(X)
    kinds = [
        "constant" if _n_distinct(values) == 1 else infer_kind(values)
        for _, values in columns
    ]
    names = [name for name, _ in columns]
    if isinstance(likelihood, list | tuple):
        if len(likelihood) != len(columns):
            raise ValueError(
                f"likelihood lists {len(likelihood)} kinds, but X has "
                f"{len(columns)} columns."
            )
        kinds = list(likelihood)
    elif isinstance(likelihood, dict):
        for key, kind in likelihood.items():
            if isinstance(key, str) and key in names:
                kinds[names.index(key)] = kind
            elif isinstance(key, int) and 0 <= key < len(columns):
                kinds[key] = kind
            else:
                raise ValueError(f"likelihood names a column X does not have: {key!r}.")
    for kind in kinds:
        if kind not in FOR_A_COLUMN:
            raise ValueError(
                f"A column's likelihood must be one of {tuple(FOR_A_COLUMN)}; "
                f"got {kind!r}."
            )
    levels = []
    for j, (name, values) in enumerate(columns):
        text = infer_kind(values) == "categorical" and not _is_numeric(values)
        if kinds[j] not in ("categorical", "constant") or (
            kinds[j] == "constant" and not text
        ):
            levels.append(None)
            continue
        levels.append(_levels(values))
        if not levels[-1]:
            label = name if name is not None else j
            raise ValueError(f"Column {label!r} has no observed value.")
        if kinds[j] == "categorical" and len(levels[-1]) < 2:
            kinds[j] = "constant"  # one level: probability 1, nothing to learn
    is_frame = all(name is not None for name in names)
    dtypes = [str(getattr(values, "dtype", "")) for _, values in columns]
    return ColumnSpec(kinds, levels, names if is_frame else None, dtypes)


def _observed(values) -> np.ndarray:
    """A column's observed values, as an object array."""
    if hasattr(values, "dropna"):
        return np.asarray(values.dropna(), dtype=object)
    # an array's None and NaN are gaps, not values
    return np.array([v for v in values if not is_missing(v)], dtype=object)


def _n_distinct(values) -> int:
    return len(set(_observed(values).tolist()))


def _is_numeric(values) -> bool:
    """Whether a column's values are all numbers (not text, not booleans)."""
    observed = _observed(values)
    return all(
        isinstance(value, int | float | np.number) and not isinstance(value, bool)
        for value in observed
    )


def _levels(values) -> list:
    """A categorical column's levels: its categories, or its distinct values."""
    categories = getattr(getattr(values, "cat", None), "categories", None)
    if categories is None:
        categories = np.unique(np.asarray(_observed(values)))
    return list(np.asarray(categories, dtype=object).tolist())


def encode(X, spec: ColumnSpec) -> np.ndarray:
    """The float matrix of a table: categories as codes, missing as NaN."""
    columns = _columns(X)
    if len(columns) != len(spec.kinds):
        raise ValueError(f"X has {len(columns)} columns; expected {len(spec.kinds)}.")
    matrix = np.empty((len(columns[0][1]) if columns else 0, len(columns)))
    for j, ((name, values), kind, levels) in enumerate(
        zip(columns, spec.kinds, spec.levels, strict=True)
    ):
        label = name if name is not None else j
        if levels is not None:  # categories, or a text column's single level
            as_objects = np.asarray(values, dtype=object)
            missing = np.array([is_missing(v) for v in as_objects], dtype=bool)
            lookup = {level: code for code, level in enumerate(levels)}
            codes = np.full(len(as_objects), np.nan)
            for i in np.flatnonzero(~missing):
                code = lookup.get(as_objects[i])
                if code is None:
                    raise ValueError(
                        f"Column {label!r} has the level {as_objects[i]!r}, not seen "
                        f"during fit (levels: {list(levels)[:10]})."
                    )
                codes[i] = code
            matrix[:, j] = codes
            continue
        try:
            column = np.asarray(
                values.astype("float64") if hasattr(values, "astype") else values,
                dtype=np.float64,
            )
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Column {label!r} is modelled as {kind!r} but holds non-numeric "
                "values; give it likelihood 'categorical'."
            ) from error
        matrix[:, j] = column
        try:  # the column's likelihood says what it accepts
            LIKELIHOODS[kind].check_data(column[:, None], kind)
        except ValueError as error:
            raise ValueError(f"Column {label!r}: {error}") from error
    return matrix


def is_missing(value) -> bool:
    """Whether one cell of a table or an object array is a gap: None, NaN or
    pandas' NA."""
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        # Not value != value: NumPy 2.5 flags a NaN comparison inside
        # frompyfunc as an invalid operation and warns.
        return bool(np.isnan(value))
    try:
        return bool(value != value)  # pandas NA
    except TypeError:
        return True  # pandas NA refuses comparisons


def decode_array(matrix: np.ndarray, spec: ColumnSpec) -> np.ndarray:
    """An array table's matrix with each categorical column's codes turned
    back into its levels: a float array when every level is a number, an
    object array otherwise; the matrix itself without categorical columns."""
    categorical = [j for j, levels in enumerate(spec.levels) if levels is not None]
    if not categorical:
        return matrix
    numeric_levels = all(
        isinstance(level, int | float | np.number) and not isinstance(level, bool)
        for j in categorical
        for level in spec.levels[j]
    )
    table = matrix.copy() if numeric_levels else matrix.astype(object)
    for j in categorical:
        levels = np.asarray(spec.levels[j], dtype=table.dtype)
        column = matrix[:, j]
        observed = ~np.isnan(column)
        table[observed, j] = levels[np.round(column[observed]).astype(int)]
        if not numeric_levels:
            table[~observed, j] = None
    return table


def decode(matrix: np.ndarray, spec: ColumnSpec):
    """A frame with the original columns, dtypes and levels (needs pandas,
    imported here: skvae imports and fits NumPy arrays without it)."""
    import pandas as pd

    data = {}
    for j, (name, kind, levels, dtype_name) in enumerate(
        zip(spec.names, spec.kinds, spec.levels, spec.dtypes, strict=True)
    ):
        try:
            dtype = pd.api.types.pandas_dtype(dtype_name)
        except TypeError:
            dtype = None
        column = matrix[:, j]
        if levels is not None:
            codes = np.where(np.isnan(column), -1, np.round(column)).astype(int)
            values = pd.Categorical.from_codes(codes, categories=list(levels))
            if dtype_name != "category":  # back to the column's own dtype
                values = pd.Series(values).astype(object).where(codes >= 0, None)
                try:
                    values = values.astype(dtype)
                except (TypeError, ValueError):
                    pass  # e.g. integers with missing values stay objects
            data[name] = values
        elif kind in ("bernoulli", "poisson", "constant") and getattr(
            dtype, "kind", ""
        ) in ("b", "i", "u"):
            # Booleans and integers, nullable ones (boolean, Int64) included.
            values = pd.Series(np.round(column))
            try:
                data[name] = values.astype(dtype)
            except (TypeError, ValueError):  # gaps in a NumPy integer dtype
                data[name] = column
        else:
            data[name] = column
    return pd.DataFrame(data)
