"""Data movement between the user's arrays and the torch core.

Standardisation statistics, the variance of a feature's recording grid, the
split into training and validation rows, minibatches gathered from NumPy or
sparse X, the conversion of log densities to the data's units, and the
advice given when a device runs out of memory. Nothing here knows the model
(running it over the user's rows is :mod:`skvae._inference`) or
scikit-learn's estimator API; the estimator calls these functions with its
parameters and fitted standardisation.
"""

from __future__ import annotations

import contextlib
import itertools
import math

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_array
from sklearn.utils.sparsefuncs import mean_variance_axis

from ._torch_utils import (
    host_view,
    standardize,
    to_tensor,
)

# early_stopping='auto' holds out rows when it can hold out at least this many
# (from 21 rows with validation_fraction=0.1). Even 3 validation rows beat
# monitoring the training loss: on the inliers of the 29 outlier sets, cut to
# 30 and to 90 training rows, the training loss ran every fit to max_iter and
# over-fit (docs/defaults.rst, "Tables too small for early stopping"); 0.2 and
# 0.3.0 needed 10 held-out rows.
MIN_AUTO_VALIDATION_ROWS = 3


def fit_standardization(X, standardizes):
    """(mean, scale) per feature: X's own, or (0, 1) when the likelihood
    reads X as it is. ``standardizes`` is one bool for every feature, or
    one per feature."""
    if not np.isscalar(standardizes):
        mean, scale = fit_standardization(X, True)
        mean[~standardizes], scale[~standardizes] = 0.0, 1.0
        return mean, scale
    if not standardizes:
        return np.zeros(X.shape[1]), np.ones(X.shape[1])
    if sp.issparse(X):
        mean, variance = mean_variance_axis(X, axis=0)
        return mean, scale_from(mean, variance)
    return column_mean_and_scale(X)


def fit_scaling(X, standardizes: bool, min_variance: float, given=None):
    """(mean, scale, floor) per feature, the floor in the model's units.

    The standardisation is X's own (see :func:`fit_standardization`), or
    ``given`` as a (mean, scale) pair. The variance floor is
    ``min_variance``, or the variance of rounding to the feature's
    resolution if that is larger (see :func:`resolution_variance`).
    """
    mean, scale = fit_standardization(X, standardizes) if given is None else given
    floor = np.maximum(min_variance, resolution_variance(X) / scale**2)
    return mean, scale, floor


def split_rows(n_samples, early_stopping, validation_fraction, split_seed, rng):
    """Training rows and validation rows (None without early stopping).

    ``early_stopping='auto'`` holds out rows when at least
    :data:`MIN_AUTO_VALIDATION_ROWS` would be held out. The validation rows
    are drawn from ``split_seed`` when it is given (once per model, so
    warm-started fits on the same X keep the same validation rows), from
    ``rng`` otherwise.
    """
    if early_stopping == "auto":
        n_held_out = math.ceil(validation_fraction * n_samples)
        early_stopping = n_held_out >= MIN_AUTO_VALIDATION_ROWS
    if not early_stopping:
        return rng.permutation(n_samples), None
    split_rng = rng if split_seed is None else np.random.RandomState(split_seed % 2**32)
    rows = split_rng.permutation(n_samples)
    n_validation = max(1, int(math.ceil(validation_fraction * n_samples)))
    if n_samples - n_validation < 1:
        raise ValueError(
            f"validation_fraction={validation_fraction} leaves no training rows "
            f"out of n_samples={n_samples}; use more data or early_stopping=False."
        )
    return rows[n_validation:], rows[:n_validation]


def minibatch_reader(X, center, scale, device):
    """A function: row indices -> those rows of X, standardised, float32.

    Dense X is handed to torch without a copy and minibatches are
    gathered from it, so ``fit`` holds no second copy of the data (no
    float64 conversion, no shuffled copy; column-major X is the exception:
    it is copied to row-major once). On a GPU, X moves to the
    device once when it takes less than half the free memory; otherwise
    each minibatch is copied over. Sparse X is densified one minibatch
    at a time.
    """
    if sp.issparse(X):

        def read_sparse(rows):
            block = standardize(X[rows].toarray(), center, scale)
            return to_tensor(block, device, torch.float32)

        return read_sparse
    # Gathering rows of a column-major array touches one cache line per
    # number (about 15x slower per minibatch), so such X is laid out
    # row-major once; row-major X, NumPy's default, is used as it is.
    data = host_view(np.ascontiguousarray(X))
    if device.type == "cuda":
        free_bytes, _ = torch.cuda.mem_get_info(device)
        if X.nbytes < free_bytes // 2:
            data = data.to(device)
    is_identity = not np.any(center) and np.all(scale == 1.0)
    # float64 keeps large offsets and extreme scales exact, as on the host.
    center = torch.as_tensor(center, device=data.device)
    scale = torch.as_tensor(scale, device=data.device)

    def read_dense(rows):
        batch = data.index_select(0, torch.from_numpy(rows).to(data.device))
        if not is_identity:
            batch = (batch.to(torch.float64) - center) / scale
        return batch.to(device=device, dtype=torch.float32)

    return read_dense


def log_scale_of_observed(X, scale, rows=None, average=False):
    """What a row's log density in the model's (standardised) units exceeds
    the density of its observed part in the data's units by: the sum of
    log(scale) over its observed features.

    Per row of X (or of ``rows``); with ``average``, their mean, as one
    float. The only conversion between the two units: scores, the training
    curve and the validation bound all use it.
    """
    log_jacobian = float(np.sum(np.log(scale)))
    missing = missing_log_scale(X, scale, rows)
    if not average:
        return log_jacobian - missing
    return log_jacobian - float(np.mean(missing)) if np.any(missing) else log_jacobian


def missing_log_scale(X, scale, rows=None, block_rows=8192):
    """Per row, the sum of log(scale) over its missing (NaN) features.

    A row's log density in the data's units is its density in the model's
    (standardised) units minus the log-scales of its observed features, that
    is minus ``sum(log(scale)) - missing_log_scale``. Zeros for complete rows
    (and for sparse X, whose rows are complete).
    """
    n_rows = X.shape[0] if rows is None else len(rows)
    result = np.zeros(n_rows)
    if sp.issparse(X):
        return result
    log_scale = np.log(scale)
    for start in range(0, n_rows, block_rows):
        part = (
            X[start : start + block_rows]
            if rows is None
            else X[rows[start : start + block_rows]]
        )
        missing = np.isnan(part)
        if missing.any():
            result[start : start + len(part)] = missing @ log_scale
    return result


def column_mean_and_scale(X, block_rows=8192):
    """Per-feature mean and standard deviation, in float64, block by block.

    Two passes over row blocks, so no float64 copy of X is ever made. Constant
    features get a scale of 1. Missing values (NaN) are left out.
    """
    has_gaps = bool(np.isnan(X).any())
    total, counts = np.zeros(X.shape[1]), np.zeros(X.shape[1])
    for start in range(0, X.shape[0], block_rows):
        block = X[start : start + block_rows]
        if has_gaps:
            total += np.nansum(block, axis=0, dtype=np.float64)
            counts += np.sum(~np.isnan(block), axis=0)
        else:
            total += block.sum(axis=0, dtype=np.float64)
            counts += len(block)
    if np.any(counts == 0):
        empty = np.flatnonzero(counts == 0).tolist()
        raise ValueError(
            f"Feature(s) {empty[:10]} of X have no observed value (all NaN): "
            "there is nothing to learn about them. Drop them first."
        )
    mean = total / counts
    squares = np.zeros(X.shape[1])
    low, high = np.full(X.shape[1], np.inf), np.full(X.shape[1], -np.inf)
    for start in range(0, X.shape[0], block_rows):
        deviation = X[start : start + block_rows].astype(np.float64)
        low, high = _widened(low, high, deviation)
        deviation -= mean
        if has_gaps:
            squares += np.nansum(deviation * deviation, axis=0)
        else:
            squares += np.einsum("ij,ij->j", deviation, deviation)
    return _exact_for_constants(mean, low, high), scale_from(mean, squares / counts)


def _widened(low, high, block):
    """The running per-feature minimum and maximum, NaN left out."""
    return np.fmin(low, np.nanmin(block, axis=0, initial=np.inf)), np.fmax(
        high, np.nanmax(block, axis=0, initial=-np.inf)
    )


def _exact_for_constants(mean, low, high):
    """``mean`` with a feature holding one value centred on that value
    exactly: a sum of equal numbers divided by their count can miss it by a
    rounding error, and a constant column's likelihood ('constant') gives
    density 0 to anything but its value."""
    constant = low == high
    mean = mean.copy()
    mean[constant] = low[constant]
    return mean


def resolution_variance(X, max_numbers=2**18, min_rows=1000, block_numbers=2**15):
    """Per feature, the variance of rounding to its resolution: gap**2 / 12.

    The gap is the smallest difference between two distinct values of the
    feature, among rows of X spread evenly over all of it (every row up to
    about ``max_numbers`` numbers, and at least ``min_rows`` rows), read a
    few columns at a time (about ``block_numbers`` numbers) so the check
    holds no sizeable copy of X. Data recorded on a grid (integers, values
    rounded to 0.1) carry no information below its spacing, and a density
    that resolves finer assigns near-infinite values to grid points and
    near-zero ones to a value seen once. Continuous features have tiny gaps;
    features with one value get 0. The rows span the whole array, not its
    first part: a feature whose rare values sit late in X (a pixel inked in
    three digits of 1,438) would otherwise look constant and get no grid
    floor, and one unusual row would then score a million nats below the
    others.
    """
    n_rows = min(X.shape[0], max(min_rows, max_numbers // X.shape[1]))
    rows = np.linspace(0, X.shape[0] - 1, n_rows).round().astype(np.intp)
    if sp.issparse(X):
        X = X[rows]
        rows = slice(None)
    width = max(1, block_numbers // n_rows)
    variance = np.zeros(X.shape[1])
    for start in range(0, X.shape[1], width):
        block = dense(X[rows, start : start + width]).astype(np.float64)
        block.sort(axis=0)
        gaps = np.diff(block, axis=0)
        gaps[~(gaps > 0)] = np.inf  # ties, and missing values (NaN)
        smallest = gaps.min(axis=0, initial=np.inf)
        variance[start : start + width] = (
            np.where(np.isfinite(smallest), smallest, 0.0) ** 2 / 12
        )
    return variance


def scale_from(mean, variance):
    """Standard deviations, with 1 for features that are constant up to rounding."""
    scale = np.sqrt(variance)
    constant = scale <= 1e-12 * np.maximum(np.abs(mean), np.finfo(np.float64).tiny)
    scale[constant] = 1.0
    return scale


@contextlib.contextmanager
def out_of_memory_advice(setting):
    """Turn a device out-of-memory error into advice the user can act on."""
    try:
        yield
    except torch.cuda.OutOfMemoryError as error:
        raise MemoryError(
            f"The device ran out of memory ({setting}). Use a smaller "
            "batch_size or n_importance_samples, or device='cpu'. Original "
            f"error: {error}"
        ) from error


def near_equal_parts(n_rows, max_size):
    """(start, stop) of the fewest parts of at most ``max_size`` rows.

    The parts differ in size by at most one row (the larger ones first, as
    with ``np.array_split``). Minibatches and inference blocks are cut this
    way because a tiny last part would take other matrix-product kernels,
    whose rounding can depend on the number of threads.
    """
    n_parts = max(1, math.ceil(n_rows / max_size))
    sizes = np.full(n_parts, n_rows // n_parts)
    sizes[: n_rows % n_parts] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return list(itertools.pairwise(bounds.tolist()))


def dense(rows):
    """A dense block of rows; sparse input is densified one block at a time."""
    return rows.toarray() if sp.issparse(rows) else rows


def check_numeric_columns(X):
    """Name the non-numeric columns of a data frame, or the text in an array.

    Either way the message says what to do about them. An array of numbers
    written as text ('1.5') passes: validation converts it as it always has.
    """

    def _reads_as_number(value) -> bool:
        try:
            float(value)
        except ValueError:
            return False
        return True

    if isinstance(X, np.ndarray) and X.dtype.kind in "OSUT":  # text or objects
        try:
            X.astype(np.float64)  # what validation does next; text fails it
        except (TypeError, ValueError):
            text = next(
                (
                    (index, value)
                    for index, value in np.ndenumerate(X)
                    if isinstance(value, (str, bytes)) and not _reads_as_number(value)
                ),
                None,
            )
            if text is not None:
                index, value = text
                if isinstance(value, bytes):
                    value = value.decode(errors="replace")
                where = f" in column {index[1]}" if len(index) == 2 else ""
                raise ValueError(
                    f"X is an array that holds text ({str(value)!r}{where}); "
                    "VAETransformer needs numbers. Encode the text first, e.g. "
                    "with OneHotEncoder or OrdinalEncoder (in a "
                    "ColumnTransformer for the text columns, in a Pipeline "
                    "before the VAE), or pass a DataFrame and "
                    "likelihood='auto' to model text columns as categories "
                    "(one likelihood per column)."
                ) from None
        return
    dtypes = getattr(X, "dtypes", None)
    columns = getattr(X, "columns", None)
    if dtypes is None or columns is None or not hasattr(dtypes, "__len__"):
        return
    non_numeric = []
    for column, dtype in zip(columns, dtypes, strict=False):
        if callable(getattr(dtype, "is_numeric", None)):  # polars
            numeric = dtype.is_numeric() or str(dtype) == "Boolean"
        else:
            try:
                numeric = np.dtype(dtype).kind in "biuf"
            except TypeError:  # pandas extension types: 'Int64', 'category', ...
                numeric = bool(getattr(dtype, "_is_numeric", False))
        if not numeric:
            non_numeric.append(str(column))
    if non_numeric:
        listed = ", ".join(repr(name) for name in non_numeric[:5])
        more = f" and {len(non_numeric) - 5} more" if len(non_numeric) > 5 else ""
        raise ValueError(
            f"VAETransformer needs numeric features; column(s) {listed}{more} "
            "are not numeric. Pass likelihood='auto' to model them as "
            "categories (one likelihood per column), or encode them first, "
            "e.g. with ColumnTransformer([('categories', OneHotEncoder(), "
            "[...])], remainder='passthrough') in a Pipeline before the VAE."
        )


def has_missing(X) -> bool:
    """Whether X (dense or sparse) holds a NaN."""
    return bool(np.isnan(X.data if sp.issparse(X) else X).any())


def check_rows_have_values(X):
    """Rows with no observed value at all have no likelihood to speak of."""
    if sp.issparse(X) or not np.isnan(X).any():
        return  # a sparse row's implicit zeros are observed values
    empty = np.flatnonzero(np.isnan(X).all(axis=1))
    if empty.size:
        raise ValueError(
            f"Row(s) {empty[:10].tolist()} of X have no observed value (all "
            f"NaN); {empty.size} such row(s) in all. A VAE can neither encode "
            "nor score them: drop them first."
        )


def check_scaling(pair, n_features):
    """A user's (mean, scale) standardisation, checked: two float arrays of
    shape (n_features,), with a scale of 0 read as 1."""
    if len(pair) != 2:
        raise ValueError(
            "input_scaling must be 'auto' or a pair (mean, scale); got a "
            f"tuple of {len(pair)}."
        )
    mean, scale = (
        check_array(
            np.reshape(values, (1, -1)),
            dtype=np.float64,
            input_name=f"input_scaling's {name}",
        )[0]
        for values, name in zip(pair, ("mean", "scale"), strict=True)
    )
    for values, name in ((mean, "mean"), (scale, "scale")):
        if values.shape != (n_features,):
            raise ValueError(
                f"input_scaling's {name} has {values.size} values; X has "
                f"{n_features} features."
            )
    if np.any(scale < 0):
        raise ValueError("input_scaling's scale must be non-negative.")
    return mean, np.where(scale == 0, 1.0, scale)
