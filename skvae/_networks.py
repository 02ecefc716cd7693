"""The encoder q(z|x), the decoder p(x|z) and the module that holds both."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ._likelihoods import LIKELIHOODS, Likelihood
from ._torch_utils import make_generator, state_from_bytes

LOG_VAR_BOUND = 40.0

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "softplus": nn.Softplus,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}


def make_mlp(sizes: Sequence[int], activation: str) -> nn.Sequential:
    """Linear layers between consecutive ``sizes``, each followed by ``activation``.

    Layers are created on the ``meta`` device (no memory, no draw from torch's
    global generator); :func:`build_vae` materialises them.
    """
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(n_in, n_out, device="meta"), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """q(z | x) = N(mean(x), diag exp(log_var(x))): an MLP with two heads."""

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int],
        n_components: int,
        activation: str,
    ) -> None:
        super().__init__()
        self.body = make_mlp([n_features, *hidden_layer_sizes], activation)
        width = hidden_layer_sizes[-1] if hidden_layer_sizes else n_features
        self.mean_head = nn.Linear(width, n_components, device="meta")
        self.log_var_head = nn.Linear(width, n_components, device="meta")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.body(x)  # (batch, width)
        # Bounded so that sigma = exp(log_var / 2) stays finite even for inputs
        # far outside the training data; trained models sit well inside.
        log_var = self.log_var_head(hidden).clamp(-LOG_VAR_BOUND, LOG_VAR_BOUND)
        # Back to x's dtype: under autocast the layers compute in bfloat16,
        # but the bound is computed from float32 (or float64) numbers.
        mean = self.mean_head(hidden).to(x.dtype)
        return mean, log_var.to(x.dtype)  # 2 x (batch, latent)


class Decoder(nn.Module):
    """The MLP z -> decoder output; the encoder's hidden sizes reversed."""

    def __init__(
        self,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        n_outputs: int,
        activation: str,
    ) -> None:
        super().__init__()
        sizes = [n_components, *reversed(hidden_layer_sizes)]
        self.body = make_mlp(sizes, activation)
        self.output_head = nn.Linear(sizes[-1], n_outputs, device="meta")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.output_head(self.body(z)).to(z.dtype)  # (batch, n_outputs)


class VAE(nn.Module):
    """Encoder, decoder and observation model of one variational auto-encoder.

    Missing values (NaN) reach the encoder as 0 (the mean of a standardised
    feature); with ``missing_indicator`` the encoder also reads a 0/1 mask
    of the missing features after the values (it then has twice as many
    inputs as there are features).
    """

    def __init__(
        self,
        encoder: Encoder,
        decoder: Decoder,
        likelihood: Likelihood,
        missing_indicator: bool = False,
    ):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.missing_indicator = missing_indicator

    @property
    def n_components(self) -> int:
        """The latent dimension."""
        return self.encoder.mean_head.out_features

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        missing = torch.isnan(x)
        x_in = torch.nan_to_num(self.likelihood.encoder_input(x), nan=0.0)
        if self.missing_indicator:
            x_in = torch.cat([x_in, missing.to(x_in.dtype)], dim=-1)
        return self.encoder(x_in)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


def build_vae(
    n_features: int,
    n_components: int,
    hidden_layer_sizes: Sequence[int],
    activation: str,
    likelihood: str,
    generator: torch.Generator,
    init_scale: float | None = None,
    missing_indicator: bool = False,
    **likelihood_settings,
) -> VAE:
    """Build a VAE on the CPU with weights drawn from ``generator``.

    With ``init_scale=None`` weights and biases follow PyTorch's default
    scheme for linear layers, U(-1/sqrt(fan_in), 1/sqrt(fan_in)); with a float
    every weight and bias is drawn from N(0, init_scale**2), the scheme of
    Kingma & Welling (2013). Either way the draws come from a local
    generator, so a seed gives the same network on every device.
    ``likelihood_settings`` are the estimator's settings for the likelihood
    (e.g. ``min_variance``); each likelihood takes those it names in its
    ``hyperparameters``. The arguments other than ``generator`` and
    ``init_scale`` describe the architecture completely, which is how a
    pickled model is rebuilt before its weights are loaded.
    """
    observation_model = LIKELIHOODS[likelihood].build(n_features, **likelihood_settings)
    n_inputs = observation_model.n_encoder_inputs
    if missing_indicator:
        n_inputs += n_features
    encoder = Encoder(n_inputs, hidden_layer_sizes, n_components, activation)
    decoder = Decoder(
        n_components, hidden_layer_sizes, observation_model.n_outputs, activation
    )
    for network in (encoder, decoder):
        network.to_empty(device="cpu")
        for layer in network.modules():
            if isinstance(layer, nn.Linear):
                with torch.no_grad():
                    _initialize_linear(layer, init_scale, generator)
                _lay_out_for_thread_invariance(layer)
    return VAE(encoder, decoder, observation_model, missing_indicator)


def rebuild_vae(architecture: dict, weights: bytes) -> VAE:
    """The VAE that :func:`build_vae` describes by ``architecture``, on the
    CPU, with the weights saved by :func:`~skvae._torch_utils.state_to_bytes`."""
    model = build_vae(**architecture, generator=make_generator(0, torch.device("cpu")))
    model.load_state_dict(state_from_bytes(weights))
    return model.eval()


def _initialize_linear(
    layer: nn.Linear, init_scale: float | None, generator: torch.Generator
) -> None:
    """Draw one layer's weight and bias in place (see :func:`build_vae`)."""
    if init_scale is None:
        bound = 1.0 / math.sqrt(layer.in_features)
        layer.weight.uniform_(-bound, bound, generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)
    else:
        layer.weight.normal_(0.0, init_scale, generator=generator)
        layer.bias.normal_(0.0, init_scale, generator=generator)


def _lay_out_for_thread_invariance(layer: nn.Linear) -> None:
    """Store a narrowing layer's weight column-major (same shape and values).

    The weight gradient is a matrix product whose output has as many rows as
    the weight's leading dimension in memory: ``out_features`` rows when the
    weight is row-major (PyTorch's default), ``in_features`` rows when it is
    column-major. MKL rounds products with 5 to 11 output rows differently
    with one and with several threads, so a narrow head (e.g. 5 latent
    dimensions) made training depend on the thread count. Layers with fewer
    than 12 outputs and more inputs are therefore laid out column-major,
    which avoids such products unless the layer is small on both sides.
    Wider layers keep the default layout, which is faster for them.
    """
    if layer.out_features < min(12, layer.in_features):
        column_major = layer.weight.detach().t().contiguous().t()
        layer.weight = nn.Parameter(column_major)
