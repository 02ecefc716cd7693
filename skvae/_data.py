"""Data movement between the user's arrays and the torch core.

Standardisation statistics, the variance of a feature's recording grid,
minibatches gathered from NumPy or sparse X, inference over row blocks of
bounded size, and the advice given when a device runs out of memory. Nothing
here knows about scikit-learn's estimator API; the estimator calls these
functions with its fitted standardisation.
"""

from __future__ import annotations

import contextlib
import itertools
import math

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.sparsefuncs import mean_variance_axis

from ._torch_utils import host_view, standardize, to_numpy, to_tensor

# Inference works on row blocks of about this many float64 numbers
# (rows x draws x widest layer), so memory stays bounded for any n_samples.
INFERENCE_BLOCK_NUMBERS = 2**22


def fit_standardization(X, standardizes: bool):
    """(mean, scale) per feature: X's own, or (0, 1) when the likelihood
    reads X as it is."""
    if not standardizes:
        return np.zeros(X.shape[1]), np.ones(X.shape[1])
    if sp.issparse(X):
        mean, variance = mean_variance_axis(X, axis=0)
        return mean, scale_from(mean, variance)
    return column_mean_and_scale(X)


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


def map_row_blocks(
    X, function, model, device, n_draws, center, scale, dtype=torch.float64, rows=None
):
    """Apply ``function(tensor, array)`` to row blocks of X, standardised
    with ``center`` and ``scale``, and stack the results.

    Blocks hold about ``INFERENCE_BLOCK_NUMBERS`` numbers per layer, so
    memory stays bounded for any number of rows.
    ``rows`` (indices) restricts the work to those rows, gathered one
    block at a time.
    """
    layer_widths = [
        layer.out_features
        for layer in model.modules()
        if hasattr(layer, "out_features")
    ]
    widest = max([X.shape[1], *layer_widths])
    block = max(1, INFERENCE_BLOCK_NUMBERS // (n_draws * widest))
    n_rows = X.shape[0] if rows is None else len(rows)
    results = []
    for start, stop in near_equal_parts(n_rows, block):
        part = X[start:stop] if rows is None else X[rows[start:stop]]
        part = standardize(dense(part), center, scale)
        results.append(to_numpy(function(to_tensor(part, device, dtype), part)))
    return np.concatenate(results)


def column_mean_and_scale(X, block_rows=8192):
    """Per-feature mean and standard deviation, in float64, block by block.

    Two passes over row blocks, so no float64 copy of X is ever made. Constant
    features get a scale of 1.
    """
    n_samples = X.shape[0]
    total = np.zeros(X.shape[1])
    for start in range(0, n_samples, block_rows):
        total += X[start : start + block_rows].sum(axis=0, dtype=np.float64)
    mean = total / n_samples
    squares = np.zeros(X.shape[1])
    for start in range(0, n_samples, block_rows):
        deviation = X[start : start + block_rows].astype(np.float64)
        deviation -= mean
        squares += np.einsum("ij,ij->j", deviation, deviation)
    return mean, scale_from(mean, squares / n_samples)


def resolution_variance(X, max_numbers=2**16, min_rows=1000):
    """Per feature, the variance of rounding to its resolution: gap**2 / 12.

    The gap is the smallest difference between two distinct values of the
    feature, among evenly spaced rows of X (about ``max_numbers`` numbers,
    at least ``min_rows`` rows). Data recorded on a grid (integers, values
    rounded to 0.1) carry no information below its spacing, and a density
    that resolves finer assigns near-infinite values to grid points and
    near-zero ones to a value seen once. Continuous features have tiny gaps;
    features with one value get 0.
    """
    n_rows = min(X.shape[0], max(min_rows, max_numbers // X.shape[1]))
    rows = X[:: max(1, X.shape[0] // n_rows)][:n_rows]
    variance = np.zeros(X.shape[1])
    for start in range(0, X.shape[1], 64):
        block = dense(rows[:, start : start + 64]).astype(np.float64)
        gaps = np.diff(np.sort(block, axis=0), axis=0)
        gaps[gaps <= 0] = np.inf  # ties
        smallest = gaps.min(axis=0, initial=np.inf)
        variance[start : start + 64] = (
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
