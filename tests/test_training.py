"""The training loop: stopping rules, restoring weights, divergence."""

import copy

import numpy as np
import pytest
import torch

from skvae._networks import build_vae
from skvae._training import StoppingRule, make_optimizer, train


def _setup(seed=0):
    generator = torch.Generator().manual_seed(seed)
    model = build_vae(
        3,
        2,
        [4],
        "tanh",
        "gaussian",
        generator,
        min_variance=1e-3,
        decoder_variance="per_feature",
    )
    optimizer = make_optimizer(model, "adam", 1e-2, 0.0)
    data = torch.randn(32, 3, generator=generator)
    return model, optimizer, data


def _train(model, optimizer, make_batches, validation_score, rule, max_epochs=6):
    return train(
        model,
        optimizer,
        make_batches,
        validation_score,
        max_epochs=max_epochs,
        n_mc_samples=1,
        beta=1.0,
        rule=rule,
        generator=torch.Generator().manual_seed(1),
        log_det_offset=0.0,
        verbose=0,
    )


def test_early_stopping_restores_the_best_validation_epoch():
    model, optimizer, data = _setup()
    scores = iter([1.0, 5.0, 2.0, 3.0, 4.0, 4.5])
    states = []

    def validation_score():
        states.append(copy.deepcopy(model.state_dict()))
        return next(scores)

    rule = StoppingRule(tol=0.0, n_iter_no_change=3, early_stopping=True)
    history = _train(model, optimizer, lambda: [data], validation_score, rule)
    assert history.converged and len(history.loss_curve) == 5
    assert history.validation_scores == [1.0, 5.0, 2.0, 3.0, 4.0]
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, states[1][name])  # epoch 2 was best


def test_plateau_divides_the_learning_rate_and_restarts_from_the_best_epoch():
    model, optimizer, data = _setup()
    # Epoch 2 is best; epochs 3-4 plateau (patience 2), so the learning rate
    # is divided and epoch 5 starts from epoch 2's weights. Epoch 6 improves,
    # 7-8 plateau again: with one decay allowed, training stops there.
    scores = iter([1.0, 5.0, 2.0, 3.0, 4.0, 6.0, 5.5, 5.0, 9.0])
    states, learning_rates = [], []

    def validation_score():
        states.append(copy.deepcopy(model.state_dict()))
        learning_rates.append(optimizer.param_groups[0]["lr"])
        return next(scores)

    starts = []
    original_load = model.load_state_dict

    def recording_load(state, *args, **kwargs):
        starts.append(copy.deepcopy(state))
        return original_load(state, *args, **kwargs)

    model.load_state_dict = recording_load
    rule = StoppingRule(
        0.0, n_iter_no_change=2, early_stopping=True, lr_plateau_decays=1
    )
    history = _train(model, optimizer, lambda: [data], validation_score, rule, 20)
    assert history.converged and len(history.loss_curve) == 8
    assert history.lr_decay_epochs == [4]
    assert learning_rates == [1e-2] * 4 + [pytest.approx(1e-2 / 3)] * 4
    for name, value in starts[0].items():  # the restart, from epoch 2
        torch.testing.assert_close(value, states[1][name])
    for name, value in model.state_dict().items():  # the end, at epoch 6
        torch.testing.assert_close(value, states[5][name])


def test_divergence_restores_the_last_finite_epoch():
    model, optimizer, data = _setup()
    # Infinite data (NaN would be missing values, which the bound leaves out).
    poisoned = torch.full_like(data, float("inf"))
    epochs = iter([[data], [data], [poisoned], [data]])
    rule = StoppingRule(tol=0.0, n_iter_no_change=10, early_stopping=False)
    snapshots = []

    def make_batches():
        snapshots.append(copy.deepcopy(model.state_dict()))
        return next(epochs)

    history = _train(model, optimizer, make_batches, None, rule)
    assert history.diverged and len(history.loss_curve) == 2
    # Epoch 2's weights were never shown to give a finite loss (epoch 3's
    # first batch failed); epoch 1's were, by epoch 2's first batch.
    assert history.kept_epoch == 1
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, snapshots[1][name])
        assert torch.isfinite(value).all()


def test_weights_that_turn_non_finite_are_never_kept():
    model, optimizer, data = _setup()

    def poison_weights_in_epoch_three():
        if len(history_calls) == 2:
            with torch.no_grad():
                model.decoder.output_head.weight.fill_(float("inf"))
        history_calls.append(None)
        return [data]

    history_calls = []
    rule = StoppingRule(tol=0.0, n_iter_no_change=10, early_stopping=False)
    history = _train(model, optimizer, poison_weights_in_epoch_three, None, rule)
    assert history.diverged
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_keyboard_interrupt_keeps_the_last_good_weights():
    model, optimizer, data = _setup()
    calls = []

    def make_batches():
        calls.append(copy.deepcopy(model.state_dict()))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return [data]

    rule = StoppingRule(tol=0.0, n_iter_no_change=10, early_stopping=False)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        history = _train(model, optimizer, make_batches, None, rule)
    assert history.interrupted and len(history.loss_curve) == 2
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, calls[2][name])


def test_weight_decay_applies_to_weight_matrices_only():
    model, _, _ = _setup()
    optimizer = make_optimizer(model, "sgd", 0.1, alpha=0.5)
    decayed, free = optimizer.param_groups
    assert decayed["weight_decay"] == 0.5 and free["weight_decay"] == 0.0
    assert all(p.ndim == 2 for p in decayed["params"])
    assert any(p is model.likelihood.log_excess_variance for p in free["params"])
    n_parameters = sum(1 for _ in model.parameters())
    assert len(decayed["params"]) + len(free["params"]) == n_parameters


def test_training_improves_the_bound():
    model, optimizer, data = _setup()
    rule = StoppingRule(tol=0.0, n_iter_no_change=100, early_stopping=False)
    history = _train(model, optimizer, lambda: [data], None, rule, max_epochs=200)
    assert np.mean(history.loss_curve[-10:]) < np.mean(history.loss_curve[:10]) - 0.5


# --------------------------------------------------- the automatic schedule


def test_automatic_schedule_on_a_tiny_and_a_large_table():
    from skvae._training import automatic_batch_size, automatic_patience

    # 90 rows: minibatches of 32, 3 steps an epoch, 160 steps of patience.
    assert automatic_batch_size(90) == 32
    assert automatic_patience(90, 32) == 54
    # 9,000,000 rows: the largest minibatch, and the smallest patience.
    assert automatic_batch_size(9_000_000) == 128
    assert automatic_patience(9_000_000, 128) == 2
    # In between, about 16 minibatches an epoch and 10 epochs of patience.
    assert automatic_batch_size(1617) == 101
    assert automatic_patience(1617, 101) == 10


def test_fit_resolves_the_schedule_and_an_explicit_setting_wins(quiet_fit):
    from skvae import VAETransformer

    X = np.random.RandomState(0).normal(size=(90, 3))
    vae = quiet_fit(VAETransformer(hidden_layer_sizes=(8,), max_iter=3), X)
    # 9 of the 90 rows are held out; 81 make 3 minibatches of 27.
    assert len(vae.validation_scores_) == 3
    assert (vae.batch_size_, vae.n_iter_no_change_) == (32, 54)
    vae.set_params(batch_size=50, n_iter_no_change=7)
    quiet_fit(vae, X)
    assert (vae.batch_size_, vae.n_iter_no_change_) == (50, 7)
    vae.set_params(batch_size=50, n_iter_no_change="auto")
    quiet_fit(vae, X)
    assert (vae.batch_size_, vae.n_iter_no_change_) == (50, 80)  # 2 steps an epoch


def test_early_stopping_auto_holds_out_rows_from_21_rows(quiet_fit):
    from skvae import VAETransformer

    X = np.random.RandomState(0).normal(size=(21, 3))
    vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=2)
    assert len(quiet_fit(vae, X).validation_scores_) == 2  # 3 rows held out
    assert quiet_fit(vae, X[:20]).validation_scores_ is None  # 2 would be
    vae.set_params(early_stopping=False)
    assert quiet_fit(vae, X).validation_scores_ is None


def test_a_small_table_keeps_its_best_held_out_weights_and_does_not_over_fit(quiet_fit):
    from skvae import VAETransformer

    # 60 rows near a line in 8 dimensions: the training loss keeps falling
    # long after held-out rows stop improving.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 1)) @ rng.normal(size=(1, 8))
    X += 0.3 * rng.normal(size=X.shape)
    train, test = X[:60], X[60:]
    params = dict(
        hidden_layer_sizes=(32,),
        max_iter=300,
        learning_rate=1e-2,
        random_state=0,
        device="cpu",  # these seeds' draws; a GPU draws other noise
    )
    held_out = quiet_fit(VAETransformer(**params), train)
    assert len(held_out.validation_scores_) == held_out.n_iter_  # 6 rows held out
    training_loss = quiet_fit(VAETransformer(early_stopping=False, **params), train)
    assert training_loss.score(train) > held_out.score(train)
    assert held_out.score(test) > training_loss.score(test) + 1.0


def test_a_tiny_table_trains_for_many_steps(quiet_fit):
    from skvae import VAETransformer

    X = np.random.RandomState(0).normal(size=(90, 3))
    vae = quiet_fit(VAETransformer(hidden_layer_sizes=(8,), random_state=0), X)
    steps = vae.n_iter_ * int(np.ceil(90 / vae.batch_size_))
    # A fixed patience of 10 one-minibatch epochs stopped such fits after
    # 40-100 steps in all.
    assert steps > 300
