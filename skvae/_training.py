"""The optimisation loop and the optimiser's lifecycle.

Epochs of minibatch steps, stopping rules, recovery from divergence, and the
optimiser a model keeps across fits. The loop knows nothing of scikit-learn:
:func:`fit_rows` receives the model, its optimiser, the data with its
standardisation and a :class:`TrainingSettings`, and returns a
:class:`History`. Losses are per-sample negative bounds in nats, shifted by
the standardisation's log-Jacobian so they are in the units of the user's
data.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from ._data import (
    log_scale_of_observed,
    minibatch_reader,
    near_equal_parts,
    out_of_memory_advice,
)
from ._inference import Inference
from ._networks import VAE
from ._objectives import OBJECTIVES
from ._torch_utils import draw_seed, make_generator, using_threads

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adagrad": torch.optim.Adagrad,
    "sgd": torch.optim.SGD,
}


# On a plateau the learning rate is divided by this before training goes on.
LR_DECAY_FACTOR = 3.0

# The schedule of ``batch_size='auto'`` and ``n_iter_no_change='auto'``
# (docs/defaults.rst, "A schedule that scales with the data"): an epoch of
# about AUTO_BATCHES_PER_EPOCH minibatches of AUTO_BATCH_ROWS[0] to
# AUTO_BATCH_ROWS[1] rows, and a patience of AUTO_PATIENCE_STEPS optimiser
# steps, never less than MIN_PATIENCE_EPOCHS epochs. A 90-row table then
# takes 3 steps an epoch and waits 54 epochs for an improvement, where a
# fixed patience of 10 epochs of one minibatch stopped it after 40-100
# steps in all; a million rows take 7,800 steps an epoch and wait 2 epochs.
# The largest minibatch is 0.2's fixed one: the thread rule
# (_torch_utils.THREADED_MULTIPLY_ADDS) was measured with it, and larger
# minibatches would move networks on 70-200 features to two threads,
# which cost 3x on a machine with a busy core.
AUTO_BATCH_ROWS = (32, 128)
AUTO_BATCHES_PER_EPOCH = 16
AUTO_PATIENCE_STEPS = 160
MIN_PATIENCE_EPOCHS = 2


def automatic_batch_size(n_train: int) -> int:
    """``batch_size='auto'``: about :data:`AUTO_BATCHES_PER_EPOCH` minibatches
    an epoch, of :data:`AUTO_BATCH_ROWS` rows at the least and the most."""
    smallest, largest = AUTO_BATCH_ROWS
    return int(min(largest, max(smallest, n_train // AUTO_BATCHES_PER_EPOCH)))


def automatic_patience(n_train: int, batch_size: int) -> int:
    """``n_iter_no_change='auto'``: the epochs that hold
    :data:`AUTO_PATIENCE_STEPS` optimiser steps, at least
    :data:`MIN_PATIENCE_EPOCHS`."""
    steps_per_epoch = max(1, math.ceil(n_train / batch_size))
    return max(MIN_PATIENCE_EPOCHS, math.ceil(AUTO_PATIENCE_STEPS / steps_per_epoch))


@dataclass
class StoppingRule:
    """When to stop: patience ``n_iter_no_change`` on improvements above ``tol``.

    The first ``lr_plateau_decays`` plateaus do not stop training: the
    learning rate is divided by :data:`LR_DECAY_FACTOR` (and, with early
    stopping, training goes on from the best validation epoch's weights).
    """

    tol: float
    n_iter_no_change: int
    early_stopping: bool
    lr_plateau_decays: int = 0


@dataclass
class History:
    """What one call of :func:`train` did, in data units (nats per sample)."""

    loss_curve: list[float] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    epoch_times: list[float] = field(default_factory=list)
    lr_decay_epochs: list[int] = field(default_factory=list)
    converged: bool = False
    diverged: bool = False
    interrupted: bool = False
    kept_epoch: int = 0
    seconds: float = 0.0  # wall-clock time of the whole call


def make_optimizer(
    model: VAE, solver: str, learning_rate: float, alpha: float
) -> torch.optim.Optimizer:
    """The optimiser, with the L2 penalty ``alpha`` on weight matrices only.

    Coupled weight decay ``alpha`` is the gradient of alpha/2 * ||W||^2 added
    to the per-sample loss; biases and the likelihood's variances are free.
    """
    weights, others = [], []
    for name, parameter in model.named_parameters():
        is_weight = name.endswith("weight") and parameter.ndim == 2
        (weights if is_weight else others).append(parameter)
    groups = [
        {"params": weights, "weight_decay": alpha},
        {"params": others, "weight_decay": 0.0},
    ]
    try:
        # One fused kernel per step instead of a loop of small element-wise
        # ops (PyTorch >= 2.4 on the CPU): a large share of a small model's
        # step time.
        return OPTIMIZERS[solver](groups, lr=learning_rate, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return OPTIMIZERS[solver](groups, lr=learning_rate)


def current_optimizer(
    optimizer: torch.optim.Optimizer | None,
    saved_state: dict | None,
    model: VAE,
    solver: str,
    learning_rate: float,
    alpha: float,
) -> torch.optim.Optimizer:
    """The optimiser to train ``model`` with now, following the parameters.

    ``optimizer`` is the one used last (None after unpickling, with its
    ``saved_state``). Its state (Adam's moments, Adagrad's sums) carries over
    between ``partial_fit`` calls, warm-started fits and pickling; a changed
    ``solver`` starts from a fresh state; a changed ``learning_rate`` or
    ``alpha`` is applied to the existing state.
    """
    if optimizer is not None and not isinstance(optimizer, OPTIMIZERS[solver]):
        optimizer, saved_state = None, None
    if optimizer is None:
        optimizer = make_optimizer(model, solver, learning_rate, alpha)
        if saved_state is not None:
            optimizer.load_state_dict(saved_state)
    update_hyperparameters(optimizer, learning_rate, alpha)
    return optimizer


def update_hyperparameters(
    optimizer: torch.optim.Optimizer, learning_rate: float, alpha: float
) -> None:
    """Set the step size and the weight matrices' L2 penalty in place.

    The groups are those of :func:`make_optimizer`: weight matrices first,
    then the unpenalised parameters.
    """
    weights, others = optimizer.param_groups
    for group in (weights, others):
        group["lr"] = learning_rate
    weights["weight_decay"] = alpha


def batch_loss(
    model: VAE,
    x: torch.Tensor,
    n_mc_samples: int,
    beta: float,
    generator: torch.Generator,
    objective: str = "elbo",
) -> torch.Tensor:
    """Summed negative training bound over the rows of a batch.

    ``objective='elbo'``: the (beta-weighted) SGVB bound averaged over
    ``n_mc_samples`` draws; ``'iwae'``: the importance-weighted bound with
    K = ``n_mc_samples`` draws (Burda et al., 2015), which ignores ``beta``.
    """
    mean_shape = (n_mc_samples, x.shape[0], model.n_components)
    noise = torch.randn(mean_shape, generator=generator, device=x.device, dtype=x.dtype)
    return -OBJECTIVES[objective].bound(model, x, noise, beta).sum()


def run_epoch(
    model: VAE,
    optimizer: torch.optim.Optimizer,
    batches: Iterable[torch.Tensor],
    n_mc_samples: int,
    beta: float,
    generator: torch.Generator,
    objective: str = "elbo",
    autocast_dtype: torch.dtype | None = None,
) -> float:
    """One pass of minibatch steps; returns the mean loss per sample.

    The running sum stays on the device and is read once per epoch, so no
    step waits for the host. With ``autocast_dtype`` (e.g. bfloat16) the
    networks run under :func:`torch.autocast`; their outputs come back in
    the input's dtype, so the bound itself is computed in float32.
    """
    model.train()
    total = None
    n_rows = 0
    for x in batches:
        with torch.autocast(
            x.device.type,
            dtype=autocast_dtype or torch.bfloat16,
            enabled=autocast_dtype is not None,
        ):
            loss = batch_loss(model, x, n_mc_samples, beta, generator, objective)
        optimizer.zero_grad(set_to_none=True)
        (loss / x.shape[0]).backward()
        optimizer.step()
        total = loss.detach() if total is None else total + loss.detach()
        n_rows += x.shape[0]
    return float(total) / n_rows


@dataclass
class _Checkpoint:
    """Weights after ``epoch`` completed epochs (0: the initial weights)."""

    state: dict
    epoch: int


def _checkpoint(model: VAE, epoch: int) -> _Checkpoint:
    # A clone per tensor: copy.deepcopy of the state dict costs several times
    # as much in Python (18% of a small detector's fit, taken every epoch).
    state = {name: value.detach().clone() for name, value in model.state_dict().items()}
    return _Checkpoint(state, epoch)


def _parameters_are_finite(model: VAE) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _loss_is_finite(
    model: VAE, batches: Iterable[torch.Tensor], beta: float, objective: str
) -> bool:
    """Whether the current weights give a finite training loss (one draw) on
    the first batch."""
    generator = torch.Generator(device=next(model.parameters()).device)
    with torch.no_grad():
        for x in batches:
            loss = batch_loss(model, x, 1, beta, generator, objective)
            return bool(torch.isfinite(loss))
    return True


def train(
    model: VAE,
    optimizer: torch.optim.Optimizer,
    make_batches: Callable[[], Iterable[torch.Tensor]],
    validation_score: Callable[[], float] | None,
    *,
    max_epochs: int,
    n_mc_samples: int,
    beta: float,
    rule: StoppingRule,
    generator: torch.Generator,
    log_det_offset: float,
    verbose: int,
    objective: str = "elbo",
    autocast_dtype: torch.dtype | None = None,
) -> History:
    """Train ``model`` in place for at most ``max_epochs`` epochs.

    Stops early when the monitored quantity (validation score with early
    stopping, training loss otherwise) has not improved by more than ``tol``
    for ``n_iter_no_change`` epochs, after ``rule.lr_plateau_decays`` such
    plateaus that divided the learning rate instead. With early stopping the
    weights of the best validation epoch are restored, at each decay and at
    the end.

    The model never ends on weights that were not seen to give a finite loss.
    An epoch's final weights count as good once a finite loss has been
    computed from them: the next epoch's first batch, a validation score, or
    a check on one batch when training ends. If the loss or the weights turn
    NaN or infinite, training stops and the last good weights are restored
    (``History.kept_epoch`` says which; 0 means the initial weights). A
    ``KeyboardInterrupt`` stops training the same way, with a warning.
    """
    started = time.perf_counter()
    history = History()
    progress = Progress(max_epochs, verbose)
    good = _checkpoint(model, 0)
    pending = None  # weights of the last epoch, not yet shown to be good
    best, best_score = None, -np.inf
    monitored_best = -np.inf
    epochs_without_improvement = 0
    try:
        for epoch in range(1, max_epochs + 1):
            start = time.perf_counter()
            loss = run_epoch(
                model,
                optimizer,
                make_batches(),
                n_mc_samples,
                beta,
                generator,
                objective,
                autocast_dtype,
            )
            if not (np.isfinite(loss) and _parameters_are_finite(model)):
                history.diverged = True
                break
            # The epoch's first batch was computed from the pending weights.
            good, pending = (pending or good), _checkpoint(model, epoch)
            history.loss_curve.append(loss + log_det_offset)
            monitored = -history.loss_curve[-1]
            if validation_score is not None:
                monitored = validation_score()
                if not np.isfinite(monitored):
                    history.diverged = True
                    break
                history.validation_scores.append(monitored)
                good, pending = pending, None
                if monitored > best_score:
                    best, best_score = good, monitored
            history.epoch_times.append(time.perf_counter() - start)
            progress.epoch_done(epoch, history)
            if monitored > monitored_best + rule.tol:
                epochs_without_improvement = 0
            else:
                epochs_without_improvement += 1
            monitored_best = max(monitored_best, monitored)
            if epochs_without_improvement < rule.n_iter_no_change:
                continue
            if len(history.lr_decay_epochs) == rule.lr_plateau_decays:
                history.converged = True
                break
            history.lr_decay_epochs.append(epoch)
            epochs_without_improvement = 0
            for group in optimizer.param_groups:
                group["lr"] /= LR_DECAY_FACTOR
            if rule.early_stopping and best is not None:
                model.load_state_dict(best.state)
                good, pending = best, None
            progress.note(
                f"Plateau: learning rate divided by {LR_DECAY_FACTOR:g} to "
                f"{optimizer.param_groups[0]['lr']:.3g}, going on from the "
                f"weights of epoch {good.epoch if pending is None else epoch}."
            )
    except KeyboardInterrupt:
        progress.close()
        history.interrupted = True
        warnings.warn(
            "Training interrupted by the user; keeping the weights of the last "
            "completed epoch (the best validation epoch with early stopping).",
            RuntimeWarning,
            stacklevel=3,
        )
    if pending is not None and not history.diverged:
        model.load_state_dict(pending.state)
        if _loss_is_finite(model, make_batches(), beta, objective):
            good = pending
        else:
            history.diverged = True
    progress.close()
    kept = best if (rule.early_stopping and best is not None) else good
    model.load_state_dict(kept.state)
    history.kept_epoch = kept.epoch
    model.eval()
    history.seconds = time.perf_counter() - started
    return history


@dataclass(frozen=True)
class TrainingSettings:
    """How :func:`fit_rows` trains: the estimator's parameters, resolved."""

    batch_size: int  # largest minibatch; an epoch's minibatches are near-equal
    n_mc_samples: int  # draws of z per row and step
    beta: float  # weight of the KL term (the 'elbo' objective only)
    objective: str  # a key of OBJECTIVES
    precision: str  # 'float32', or 'bfloat16' for autocast matrix products
    rule: StoppingRule
    threads: int | None  # torch's intra-op threads (None: torch's own)
    verbose: int


def fit_rows(
    model: VAE,
    optimizer: torch.optim.Optimizer,
    X,
    center: np.ndarray,
    scale: np.ndarray,
    train_rows: np.ndarray,
    validation_rows: np.ndarray | None,
    max_epochs: int,
    settings: TrainingSettings,
    rng: np.random.RandomState,
) -> History:
    """:func:`train` on rows of X (NumPy or sparse), standardised on the fly.

    Each epoch visits ``train_rows`` in a new order drawn from ``rng``, in
    near-equal minibatches of at most ``settings.batch_size`` rows. With
    ``validation_rows``, the monitored score is the objective's own bound
    (with beta = 1 and the objective's validation draws, keyed by a seed drawn
    once per call) averaged over those rows, in the data's units.
    """
    device = next(model.parameters()).device
    read_rows = minibatch_reader(X, center, scale, device)

    def make_batches():
        order = train_rows[rng.permutation(len(train_rows))]
        for start, stop in near_equal_parts(len(order), settings.batch_size):
            yield read_rows(order[start:stop])

    # Losses of the observed parts, in the data's units.
    training_offset = log_scale_of_observed(X, scale, train_rows, average=True)
    validation_score = None
    if validation_rows is not None:
        seed = draw_seed(rng)
        objective = OBJECTIVES[settings.objective]
        n_draws = objective.validation_draws(settings.n_mc_samples)
        advice = f"validation with {n_draws} draws per row"
        validation = Inference(model, center, scale, settings.threads, advice)
        validation_offset = log_scale_of_observed(
            X, scale, validation_rows, average=True
        )

        def validation_bound(model, x, noise):
            return objective.bound(model, x, noise, 1.0)

        def validation_score():
            model.eval()
            bounds = validation.bounds(
                X, validation_bound, seed, n_draws, torch.float32, validation_rows
            )
            return float(np.mean(bounds)) - validation_offset

    advice = f"batch_size={settings.batch_size}"
    with out_of_memory_advice(advice), using_threads(settings.threads):
        return train(
            model,
            optimizer,
            make_batches,
            validation_score,
            max_epochs=max_epochs,
            n_mc_samples=settings.n_mc_samples,
            beta=settings.beta,
            autocast_dtype=(
                None if settings.precision == "float32" else torch.bfloat16
            ),
            rule=settings.rule,
            generator=make_generator(draw_seed(rng), device),
            log_det_offset=training_offset,
            verbose=settings.verbose,
            objective=settings.objective,
        )


def describe_stop(history: History, rule: StoppingRule, max_epochs: int) -> str:
    """One sentence: why training stopped and which epoch's weights were kept."""
    n_epochs = len(history.loss_curve)
    kept = f"kept the weights of epoch {history.kept_epoch}"
    if history.validation_scores and history.kept_epoch > 0:
        score = history.validation_scores[history.kept_epoch - 1]
        kept += f" (validation score {score:.4f})"
    if history.diverged:
        reason = "the loss or the weights became NaN or infinite"
    elif history.interrupted:
        reason = "interrupted by the user"
    elif history.converged:
        monitored = (
            "the validation score" if rule.early_stopping else "the training loss"
        )
        reason = (
            f"{monitored} did not improve by more than tol={rule.tol:g} for "
            f"n_iter_no_change={rule.n_iter_no_change} epochs"
        )
        if history.lr_decay_epochs:
            n_decays = len(history.lr_decay_epochs)
            reason += f", after {n_decays} learning-rate decay(s)"
    else:
        reason = f"reached max_iter={max_epochs} before the stopping rule was met"
    return f"Stopped after epoch {n_epochs}: {reason}; {kept}; {history.seconds:.1f} s."


def epoch_line(epoch: int, max_epochs: int, history: History) -> str:
    line = f"Epoch {epoch}/{max_epochs}: loss = {history.loss_curve[-1]:.4f}"
    if history.validation_scores:
        line += f", validation score = {history.validation_scores[-1]:.4f}"
    return line + f", {history.epoch_times[-1]:.2f}s"


class Progress:
    """What ``verbose`` shows while training.

    ``verbose=1``: on a terminal, a progress bar over ``max_epochs`` with the
    elapsed time, an estimate of the time left and the last scores (with
    tqdm, where installed); elsewhere (logs, notebooks, or no tqdm) a line
    for the first epoch and every :attr:`LINE_EVERY` epochs. ``verbose>=2``:
    a line per epoch. Notes (learning-rate decays) are always printed.
    """

    LINE_EVERY = 10

    def __init__(self, max_epochs: int, verbose: int, interactive: bool | None = None):
        self.max_epochs = max_epochs
        self.verbose = verbose
        if interactive is None:
            interactive = sys.stderr.isatty()
        self.bar = None
        if verbose == 1 and interactive:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=max_epochs, unit="epoch", leave=False)

    def epoch_done(self, epoch: int, history: History) -> None:
        if not self.verbose:
            return
        if self.bar is not None:
            scores = {"loss": f"{history.loss_curve[-1]:.4f}"}
            if history.validation_scores:
                scores["validation"] = f"{history.validation_scores[-1]:.4f}"
            self.bar.set_postfix(scores, refresh=False)
            self.bar.update(1)
        elif self.verbose > 1 or epoch == 1 or epoch % self.LINE_EVERY == 0:
            print(epoch_line(epoch, self.max_epochs, history), flush=True)

    def note(self, text: str) -> None:
        if not self.verbose:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
