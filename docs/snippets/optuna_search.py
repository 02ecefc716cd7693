"""Tune a VAETransformer with Optuna: score() is a held-out log-likelihood,
so cross-validation needs no labels."""

import optuna
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score

from skvae import VAETransformer

X, _ = load_digits(return_X_y=True)


def objective(trial):
    vae = VAETransformer(
        n_components=trial.suggest_int("n_components", 2, 16, log=True),
        learning_rate=trial.suggest_float("learning_rate", 1e-3, 3e-2, log=True),
        hidden_layer_sizes=(64,),
        max_iter=10,
        random_state=0,
    )
    return cross_val_score(vae, X, cv=2).mean()  # nats per row, higher is better


optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(
    direction="maximize", sampler=optuna.samplers.TPESampler(seed=0)
)
study.optimize(objective, n_trials=3)
print(study.best_params, round(study.best_value, 2))
