"""Small helpers at the boundary between NumPy and PyTorch.

Device resolution, random generators derived from a NumPy ``RandomState``,
the conversion of row blocks of ``X`` into model inputs and the choice of
torch's thread count all live here.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings

import numpy as np
import torch

_CUDA_PATTERN = re.compile(r"^cuda(:\d+)?$")


def resolve_device(device: str) -> torch.device:
    """Turn the ``device`` parameter into a :class:`torch.device`.

    ``"auto"`` picks the first CUDA device when one is available and the CPU
    otherwise. Asking for CUDA on a machine without it is an error, not a
    silent fallback, so a job meant for a GPU never crawls along on the CPU.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if _CUDA_PATTERN.match(device):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on "
                "this machine; use device='cpu' or device='auto'."
            )
        resolved = torch.device(device)
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
        return resolved
    raise ValueError(
        f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}."
    )


def draw_seed(rng: np.random.RandomState) -> int:
    """Draw a 63-bit seed from a NumPy random state."""
    return int(rng.randint(np.iinfo(np.int64).max, dtype=np.int64))


def make_generator(seed: int, device: torch.device) -> torch.Generator:
    """A local torch generator on ``device``; global RNGs are never touched."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def standard_normal(
    shape: tuple[int, ...], seed: int, device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """Standard normal noise drawn on the CPU from ``seed``.

    Drawing on the CPU makes the numbers identical whatever the device, which
    is what the common random numbers used in scoring need.
    """
    noise = torch.randn(shape, generator=make_generator(seed, torch.device("cpu")))
    return noise.to(device=device, dtype=dtype)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of uint64 that scrambles every bit."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def row_noise(
    X_rows: np.ndarray,
    seed: int,
    n_draws: int,
    n_components: int,
    device: torch.device,
    dtype: torch.dtype,
) -> torch.Tensor:
    """Standard normal noise of shape (n_draws, n_rows, n_components), keyed by row.

    Each row's noise is a function of ``seed`` and of the row's values alone
    (pass standardised rows, so rescaling the data leaves the draws alone)
    (a 64-bit hash of the row feeds a counter-based generator), so a row gets
    the same draws whatever other rows are scored with it and in whatever
    order, while different rows get independent draws. Computed on the host,
    so the numbers are the same on every device.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        # Keyed on float32-rounded values, so rows equal up to float64
        # rounding noise (e.g. float32 vs float64 input) draw the same noise.
        rounded = np.ascontiguousarray(X_rows, dtype=np.float32)
        bits = rounded.view(np.uint32).astype(np.uint64)
        columns = np.arange(1, bits.shape[1] + 1, dtype=np.uint64) * _GOLDEN
        row_keys = _mix64(bits + columns).sum(axis=1, dtype=np.uint64)
        row_keys = _mix64(row_keys ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF))
        n_pairs = (n_draws * n_components + 1) // 2
        counters = np.arange(1, 2 * n_pairs + 1, dtype=np.uint64) * _GOLDEN
        words = _mix64(row_keys[:, None] + counters)  # (rows, 2 * n_pairs)
    # 53 random bits -> uniform on (0, 1), then Box-Muller.
    uniform = ((words >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    radius = np.sqrt(-2.0 * np.log(uniform[:, :n_pairs]))
    angle = 2.0 * np.pi * uniform[:, n_pairs:]
    normal = np.concatenate([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    normal = normal[:, : n_draws * n_components].reshape(-1, n_draws, n_components)
    return torch.from_numpy(normal.transpose(1, 0, 2).copy()).to(
        device=device, dtype=dtype
    )


def standardize(
    X_rows: np.ndarray, center: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """(X_rows - center) / scale in float64, as a fresh array.

    Doing this on the host in float64 keeps very large or very small feature
    scales intact, and the fresh array means read-only or memory-mapped input
    is never shared with torch.
    """
    return (np.asarray(X_rows, dtype=np.float64) - center) / scale


def host_view(X: np.ndarray) -> torch.Tensor:
    """A CPU tensor sharing memory with the dense array ``X`` (no copy).

    Callers only read from it (e.g. ``index_select``, which copies), so
    read-only and memory-mapped arrays are safe; torch's warning about
    non-writable arrays is silenced for that reason.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not writable.*")
        return torch.from_numpy(X)


def to_tensor(
    array: np.ndarray, device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """Hand a NumPy array to torch on ``device`` in ``dtype``."""
    return torch.from_numpy(array).to(device=device, dtype=dtype)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """Copy a tensor back to a float64 NumPy array on the host."""
    return tensor.detach().to(device="cpu", dtype=torch.float64).numpy()


def state_to_bytes(state: dict) -> bytes:
    """Serialise a torch state dict (weights or optimiser state) to bytes."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def state_from_bytes(blob: bytes) -> dict:
    """Load a state dict saved by :func:`state_to_bytes` onto the CPU.

    ``weights_only=True`` restricts unpickling to tensors and plain
    containers, so loading runs no code from the file.
    """
    return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)


# ------------------------------------------------------------------ threads

# Torch's intra-op thread count when skvae was imported: if it differs at fit
# time, the user chose one with torch.set_num_threads, and it is respected.
_TORCH_DEFAULT_THREADS = torch.get_num_threads()
_THREAD_ENVIRONMENT = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")

# Below this many multiply-adds in the forward pass of a minibatch step
# (rows x draws x weights), the estimator keeps torch on one thread. The
# choice weighs two measured losses (PyTorch 2.13, 2-core CPU, MKL): on an
# idle machine a second thread gains 1.1x to 1.2x at 4e7 to 5e7 (the default
# network on breast cancer and digits, 5 draws) and 1.35x at 8e7 (the
# 784-400-20 MNIST model, one draw); with another process busy on one core
# the second thread costs 3x to 3.5x. One thread below 1e8 caps the loss of
# the common small models at about 1.2x, where two threads could cost 3.5x.
THREADED_MULTIPLY_ADDS = 1e8


def multiply_adds(model: torch.nn.Module) -> int:
    """Multiply-adds per row of one pass through every linear layer of ``model``."""
    return sum(
        layer.in_features * layer.out_features
        for layer in model.modules()
        if isinstance(layer, torch.nn.Linear)
    )


def user_thread_count() -> int | None:
    """The intra-op thread count the user chose through torch or the environment.

    None when nothing was chosen: ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS``
    are unset and torch still has the thread count it had when skvae was
    imported.
    """
    current = torch.get_num_threads()
    if any(os.environ.get(name) for name in _THREAD_ENVIRONMENT):
        return current
    return current if current != _TORCH_DEFAULT_THREADS else None


def thread_count(
    n_threads: int | None, device: torch.device, multiply_adds_per_step: float
) -> int | None:
    """Torch's intra-op thread count for a network, or None to leave torch's.

    ``n_threads`` (the estimator's parameter) wins; then a count the user set
    through torch or the environment; on a GPU the host's setting is left
    alone. Otherwise networks whose training step is too small to share run
    on one thread, and larger ones on torch's default count.

    The choice depends on the model and data sizes only, never on a timing:
    the rounding of some CPU matrix products (MKL splits long inner
    dimensions among threads) depends on the thread count, so a choice that
    followed the machine's load would make a fixed ``random_state`` give
    different numbers from one run to the next.
    """
    if n_threads is not None:
        return n_threads
    if device.type != "cpu":
        return None
    chosen = user_thread_count()
    if chosen is not None:
        return chosen
    if multiply_adds_per_step < THREADED_MULTIPLY_ADDS:
        return 1
    return _TORCH_DEFAULT_THREADS


def network_thread_count(
    model: torch.nn.Module,
    n_threads: int | None,
    device: torch.device,
    batch_size: int,
    n_mc_samples: int,
) -> int | None:
    """:func:`thread_count` for a VAE trained on ``batch_size`` rows and
    ``n_mc_samples`` draws per step.

    One choice serves training and inference: it follows the forward
    multiply-adds of a training step (the encoder once per row, the decoder
    once per draw), which say whether the network is large enough to share
    between threads.
    """
    step_work = batch_size * (
        multiply_adds(model.encoder) + n_mc_samples * multiply_adds(model.decoder)
    )
    return thread_count(n_threads, device, step_work)


@contextlib.contextmanager
def using_threads(n_threads: int | None):
    """Run the block on ``n_threads`` of torch's threads, then restore the caller's."""
    before = torch.get_num_threads()
    if n_threads is not None and n_threads != before:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
