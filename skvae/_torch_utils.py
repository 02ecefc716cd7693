"""Small helpers at the boundary between NumPy and PyTorch.

Device resolution, random generators derived from a NumPy ``RandomState`` and
the conversion of row blocks of ``X`` into model inputs all live here, so the
estimator never builds tensors by hand.
"""

from __future__ import annotations

import re

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


def rows_to_tensor(
    X_rows: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    device: torch.device,
    dtype: torch.dtype,
) -> torch.Tensor:
    """Standardise a block of rows in float64 and hand it to torch.

    The arithmetic is done in float64 on the host so that very large or very
    small feature scales survive; the result is a fresh array, so read-only
    or memory-mapped inputs are never shared with torch.
    """
    standardized = (np.asarray(X_rows, dtype=np.float64) - center) / scale
    return torch.from_numpy(standardized).to(device=device, dtype=dtype)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """Copy a tensor back to a float64 NumPy array on the host."""
    return tensor.detach().to(device="cpu", dtype=torch.float64).numpy()
