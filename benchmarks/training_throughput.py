"""Training throughput of skvae against a plain PyTorch loop, PyOD and pythae.

Every contender trains the same model on the same data, one after the other
in this one process: a Bernoulli VAE with one hidden layer of 400 ReLU units
in the encoder and the decoder, 20 latent dimensions, Adam at 1e-3, minibatch
128, the same number of epochs. The data are 60,000 binarized MNIST images
(the 50,000 training and 10,000 validation images of the fixed binarization
in ``DATA_DIR/binarized_mnist``), scored on its 10,000 test images. Without
the folder, 60,000 random binary images of the same shape are used.

* ``skvae``: ``VAETransformer.fit``; ``skvae bfloat16`` the same with
  ``precision="bfloat16"`` (matrix products in bfloat16 under autocast).
* ``plain PyTorch``: the loop most tutorials write, written here: a
  ``DataLoader`` over a ``TensorDataset`` with ``shuffle=True``, the summed
  binary cross-entropy plus the analytic KL, ``loss.backward()``, Adam, and
  ``loss.item()`` accumulated every step.
* ``PyOD VAE``: ``pyod.models.vae.VAE`` with the same layers, ``dropout_rate=0``,
  no batch normalisation (skipped when PyOD is not installed). PyOD trains
  on a mean-squared error of standardised data, so its held-out ELBO is not
  comparable and is not reported.
* ``pythae VAE``: pythae's ``TrainingPipeline`` with the same encoder and
  decoder and its binary cross-entropy loss (skipped when pythae is not
  installed).

It also measures the machine's limit, the float32 FLOP/s of a large matrix
product, and reports skvae's training FLOP/s (the matrix-product FLOPs of
the forward and backward pass per row times rows per second) as a fraction
of it. ``--device cuda`` runs skvae and the plain loop on a GPU (the
plain loop copies each minibatch over, as tutorials do; skvae keeps X on the
device when it fits), PyOD and pythae are then skipped, and the matrix
product is the GPU's. ``--inference`` adds ``transform`` / ``score_samples`` throughput
from 10^3 to 10^6 rows, and ``--memory`` the peak memory of ``fit`` on a
1,000,000 x 100 float32 array (measured in a fresh subprocess, from
Linux's /proc/self/status: ru_maxrss would count the parent's memory).

Run ``python benchmarks/training_throughput.py ../shared/data --inference
--memory``; on a GPU machine add ``--device cuda``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from torch import nn
from torch.nn import functional as F

from skvae import VAETransformer

HIDDEN, LATENT, BATCH, LEARNING_RATE = 400, 20, 128, 1e-3


# ---------------------------------------------------------------- data


def load_mnist(data_dir):
    folder = Path(data_dir or "") / "binarized_mnist"
    if data_dir and folder.is_dir():
        from scipy.io import loadmat

        def part(name):
            return loadmat(folder / f"binarized_mnist_{name}.mat")["X"]

        # loadmat gives column-major arrays; users' arrays are usually
        # row-major (NumPy's default), so the benchmark uses those.
        X_train = np.vstack([part("train"), part("valid")]).astype(np.float32)
        X_test = part("test").astype(np.float32)
        return (
            np.ascontiguousarray(X_train),
            np.ascontiguousarray(X_test),
            ("binarized MNIST"),
        )
    rng = np.random.RandomState(0)
    prob = rng.uniform(0.0, 0.3, size=784)
    X = (rng.uniform(size=(70_000, 784)) < prob).astype(np.float32)
    return X[:60_000], X[60_000:], "random binary 784-d"


# ------------------------------------------------------- reference model


class PlainVAE(nn.Module):
    """The tutorial VAE: 784-400-(20, 20) encoder, 20-400-784 decoder."""

    def __init__(self, n_features):
        super().__init__()
        self.hidden = nn.Linear(n_features, HIDDEN)
        self.mean = nn.Linear(HIDDEN, LATENT)
        self.log_var = nn.Linear(HIDDEN, LATENT)
        self.decoder_hidden = nn.Linear(LATENT, HIDDEN)
        self.decoder_out = nn.Linear(HIDDEN, n_features)

    def encode(self, x):
        h = F.relu(self.hidden(x))
        return self.mean(h), self.log_var(h)

    def decode(self, z):  # logits
        return self.decoder_out(F.relu(self.decoder_hidden(z)))

    def forward(self, x):
        mean, log_var = self.encode(x)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        return self.decode(z), mean, log_var


def plain_loop(X, epochs, device="cpu", batch_size=BATCH):
    torch.manual_seed(0)
    model = PlainVAE(X.shape[1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X)),
        batch_size=batch_size,
        shuffle=True,
    )
    for _ in range(epochs):
        model.train()
        train_loss = 0.0
        for (x,) in loader:
            x = x.to(device)
            logits, mean, log_var = model(x)
            reconstruction = F.binary_cross_entropy_with_logits(
                logits, x, reduction="sum"
            )
            kl = -0.5 * torch.sum(1 + log_var - mean.pow(2) - log_var.exp())
            loss = reconstruction + kl
            optimizer.zero_grad()
            (loss / len(x)).backward()
            optimizer.step()
            train_loss += loss.item()
    return model.eval()


def heldout_elbo(encode, decode_logits, X, device="cpu"):
    """Mean ELBO (analytic KL, one draw per row) in nats, in float64; the
    noise is drawn on the CPU, so every device scores the same draws."""
    generator = torch.Generator().manual_seed(0)
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(X), 1000):
            x = torch.from_numpy(X[start : start + 1000]).to(device)
            mean, log_var = encode(x)
            noise = torch.randn(mean.shape, generator=generator).to(device)
            z = mean + noise * torch.exp(0.5 * log_var)
            logits = decode_logits(z)
            log_lik = -F.binary_cross_entropy_with_logits(
                logits.double(), x.double(), reduction="none"
            ).sum(-1)
            kl = 0.5 * (mean.square() + log_var.exp() - 1 - log_var).sum(-1)
            total += float((log_lik - kl.double()).sum())
    return total / len(X)


# ---------------------------------------------------------------- peers


def run_pyod(X, epochs):
    from pyod.models.vae import VAE

    detector = VAE(
        encoder_neuron_list=[HIDDEN],
        decoder_neuron_list=[HIDDEN],
        latent_dim=LATENT,
        epoch_num=epochs,
        batch_size=BATCH,
        lr=LEARNING_RATE,
        dropout_rate=0.0,
        batch_norm=False,
        optimizer_params={"weight_decay": 0.0},
        verbose=0,
        random_state=0,
    )
    detector.fit(X)
    return detector


def run_pythae(X, epochs, workdir):
    import logging

    from pythae.models import VAE, VAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder
    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig

    logging.getLogger("pythae").setLevel(logging.ERROR)
    n_features = X.shape[1]

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(n_features, HIDDEN)
            self.mean = nn.Linear(HIDDEN, LATENT)
            self.log_var = nn.Linear(HIDDEN, LATENT)

        def forward(self, x):
            h = F.relu(self.hidden(x.reshape(len(x), -1)))
            return ModelOutput(embedding=self.mean(h), log_covariance=self.log_var(h))

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(LATENT, HIDDEN)
            self.out = nn.Linear(HIDDEN, n_features)

        def forward(self, z):
            logits = self.out(F.relu(self.hidden(z)))
            return ModelOutput(reconstruction=torch.sigmoid(logits))

    config = VAEConfig(
        input_dim=(n_features,), latent_dim=LATENT, reconstruction_loss="bce"
    )
    model = VAE(config, encoder=Encoder(), decoder=Decoder())
    training = BaseTrainerConfig(
        output_dir=str(workdir),
        num_epochs=epochs,
        per_device_train_batch_size=BATCH,
        learning_rate=LEARNING_RATE,
        no_cuda=True,
        seed=0,
    )
    TrainingPipeline(training_config=training, model=model)(train_data=X)
    return model.eval()


# ------------------------------------------------------ machine's limit


def synchronize(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def matmul_flops(size=2048, repeats=10, device="cpu"):
    """Best float32 FLOP/s of a size x size matrix product."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(device)
    b = torch.randn(size, size, generator=generator).to(device)
    a @ b  # warm-up
    synchronize(device)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def training_flops_per_row(n_features):
    """Matmul FLOPs of one row's forward and backward pass (no input grad)."""
    layers = [
        (n_features, HIDDEN),
        (HIDDEN, 2 * LATENT),
        (LATENT, HIDDEN),
        (HIDDEN, n_features),
    ]
    forward = sum(2 * n_in * n_out for n_in, n_out in layers)
    # Backward: a weight gradient per layer, an input gradient for all but
    # the first layer.
    backward = 2 * forward - 2 * n_features * HIDDEN
    return forward + backward


# ------------------------------------------------------------ inference


def inference_rows(n_rows_list, n_features=100, device="cpu"):
    rng = np.random.RandomState(0)
    X_fit = rng.normal(size=(20_000, n_features)).astype(np.float32)
    # skvae 0.1's default network and objective, as in the recorded runs.
    vae = VAETransformer(
        20,
        hidden_layer_sizes=(128, 64),
        objective="elbo",
        n_mc_samples=1,
        early_stopping=False,
        n_threads=torch.get_num_threads(),
        random_state=0,
        max_iter=1,
        device=device,
    ).fit(X_fit)
    results = []
    for n_rows in n_rows_list:
        X = rng.normal(size=(n_rows, n_features)).astype(np.float32)
        for name, call, k in [
            ("transform", lambda X: vae.transform(X), None),
            ("score_samples K=1", lambda X: vae.score_samples(X), 1),
            ("score_samples K=64", lambda X: vae.score_samples(X), 64),
        ]:
            if k == 64 and n_rows > 100_000:
                continue
            if k is not None:
                vae.set_params(n_importance_samples=k)
            start = time.perf_counter()
            call(X)  # returns NumPy arrays: the device has finished
            seconds = time.perf_counter() - start
            results.append((name, n_rows, n_rows / seconds))
    return results


MEMORY_CHILD = """
import json, warnings
import numpy as np
import torch
torch.set_num_threads({threads})
from skvae import VAETransformer
def status_mib(field):  # VmRSS: now; VmHWM: peak since this program started
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
X = np.random.default_rng(0).standard_normal((1_000_000, 100), dtype=np.float32)
# skvae 0.1's default network and objective, as in the recorded runs; early
# stopping would add its validation rows' scoring, in bounded float64 blocks.
vae = VAETransformer(20, hidden_layer_sizes=(128, 64), objective="elbo",
                     n_mc_samples=1, early_stopping=False, max_iter=1,
                     n_threads={threads}, random_state=0)
warnings.simplefilter("ignore")
vae.fit(X[:1000])  # import and allocate everything once
before = status_mib("VmRSS")
vae.fit(X)
print(json.dumps(dict(x_mib=X.nbytes / 2**20, before=before,
                      peak=status_mib("VmHWM"))))
"""


def fit_memory(threads):
    output = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD.format(threads=threads)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# ----------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=None)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--inference", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--skip", nargs="*", default=[], help="pyod, pythae")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument(
        "--batch-size", type=int, default=BATCH, help="skvae's and the plain loop's"
    )
    args = parser.parse_args()
    device = args.device
    batch_size = args.batch_size
    if device != "cpu" or batch_size != BATCH:  # PyOD and pythae: CPU, 128
        args.skip = [*args.skip, "pyod", "pythae"]
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", ConvergenceWarning)

    X, X_test, data_name = load_mnist(args.data_dir)
    print(
        f"data: {data_name}, {X.shape[0]} x {X.shape[1]} training rows, "
        f"{len(X_test)} test rows; {args.epochs} epochs, batch {batch_size}; "
        f"torch {torch.__version__}, {args.threads} thread(s), device {device}"
        + (f" ({torch.cuda.get_device_name(device)})" if device != "cpu" else "")
    )
    matmul_size = 8192 if device != "cpu" else 2048
    peak = matmul_flops(size=matmul_size, device=device)
    flops_per_row = training_flops_per_row(X.shape[1])
    rows = []

    def timed(name, fit, elbo=None):
        """Fit once on 1,024 rows (imports, allocations), then time a full fit."""
        fit(X[:1024], 1)
        synchronize(device)
        start = time.perf_counter()
        model = fit(X, args.epochs)
        synchronize(device)
        seconds = time.perf_counter() - start
        rows.append((name, seconds, elbo(model) if elbo else None))

    def fit_skvae(X, epochs, precision="float32"):
        vae = VAETransformer(
            LATENT,
            hidden_layer_sizes=(HIDDEN,),
            likelihood="bernoulli",
            batch_size=batch_size,
            learning_rate=LEARNING_RATE,
            max_iter=epochs,
            n_iter_no_change=epochs + 1,
            early_stopping=False,
            objective="elbo",  # the plain loop's one-draw ELBO
            n_mc_samples=1,
            n_threads=torch.get_num_threads(),  # the same count for everyone
            precision=precision,
            random_state=0,
            device=device,
        )
        return vae.fit(X)

    timed(
        "skvae",
        fit_skvae,
        lambda m: heldout_elbo(m.module_.encode, m.module_.decode, X_test, device),
    )
    timed(
        "skvae bfloat16",
        lambda X, epochs: fit_skvae(X, epochs, precision="bfloat16"),
        lambda m: heldout_elbo(m.module_.encode, m.module_.decode, X_test, device),
    )
    timed(
        "plain PyTorch",
        lambda X, epochs: plain_loop(X, epochs, device, batch_size),
        lambda m: heldout_elbo(m.encode, m.decode, X_test, device),
    )
    if "pyod" not in args.skip:
        try:
            import pyod  # noqa: F401
        except ImportError:
            print("PyOD not installed: skipped")
        else:
            timed("PyOD VAE", run_pyod)
    if "pythae" not in args.skip:
        try:
            import pythae  # noqa: F401
        except ImportError:
            print("pythae not installed: skipped")
        else:
            import tempfile

            def decoder_logits(model):
                def logits(z):
                    probability = model.decoder(z).reconstruction
                    return torch.logit(probability.clamp(1e-7, 1 - 1e-7))

                return logits

            def encoder_output(model):
                def encode(x):
                    output = model.encoder(x)
                    return output.embedding, output.log_covariance

                return encode

            with tempfile.TemporaryDirectory() as workdir:
                timed(
                    "pythae VAE",
                    lambda X, epochs: run_pythae(X, epochs, workdir),
                    lambda m: heldout_elbo(
                        encoder_output(m), decoder_logits(m), X_test
                    ),
                )

    skvae_seconds = rows[0][1]
    print(
        f"\nmatrix product ({matmul_size}^3, float32): {peak / 1e9:.1f} GFLOP/s; "
        f"training FLOPs per row: {flops_per_row / 1e6:.2f} M\n"
    )
    header = (
        f"{'contender':<15} {'fit s':>7} {'rows/s':>9} {'GFLOP/s':>8} "
        f"{'% peak':>7} {'time / skvae':>15} {'test ELBO':>10}"
    )
    print(header)
    print("-" * len(header))
    for name, seconds, elbo in rows:
        rate = X.shape[0] * args.epochs / seconds
        elbo_text = f"{elbo:10.2f}" if elbo is not None else f"{'n/a':>10}"
        print(
            f"{name:<15} {seconds:7.1f} {rate:9.0f} "
            f"{rate * flops_per_row / 1e9:8.1f} "
            f"{100 * rate * flops_per_row / peak:6.1f}% "
            f"{seconds / skvae_seconds:14.2f}x {elbo_text}"
        )

    if args.inference:
        print("\ninference, 100 features, VAE (128, 64) -> 20, rows per second:")
        results = inference_rows([1_000, 10_000, 100_000, 1_000_000], device=device)
        sizes = sorted({n for _, n, _ in results})
        print(f"{'method':<20}" + "".join(f"{n:>12,}" for n in sizes))
        for name in dict.fromkeys(name for name, _, _ in results):
            cells = {n: rate for m, n, rate in results if m == name}
            print(
                f"{name:<20}"
                + "".join(
                    f"{cells[n]:12,.0f}" if n in cells else f"{'-':>12}" for n in sizes
                )
            )

    if args.memory and device == "cpu":  # peak host memory; a GPU's is its own
        memory = fit_memory(args.threads)
        extra = memory["peak"] - memory["before"]
        print(
            f"\nfit on 1,000,000 x 100 float32 (X = {memory['x_mib']:.0f} MiB): "
            f"peak RSS {memory['peak']:.0f} MiB, {extra:.0f} MiB above the RSS "
            f"before fit ({100 * extra / memory['x_mib']:.0f}% of X)"
        )
    print(
        f"\nmax RSS of this process: {resource.getrusage(0).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
