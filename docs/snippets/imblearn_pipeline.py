"""VAE features for an imbalanced classification, with imbalanced-learn's
SMOTE after the VAE in an imblearn Pipeline."""

import numpy as np
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from skvae import VAETransformer

X, digit = load_digits(return_X_y=True)
# A rare class: the 8s, thinned to 30 rows among about 1,600 others.
keep = (digit != 8) | (np.cumsum(digit == 8) <= 30)
X, y = X[keep], (digit[keep] == 8).astype(int)

model = make_pipeline(
    VAETransformer(
        n_components=8, hidden_layer_sizes=(64,), max_iter=30, random_state=0
    ),
    SMOTE(random_state=0),  # oversamples the rare class in the latent space
    LogisticRegression(max_iter=1000),
)
print(
    "balanced accuracy:",
    cross_val_score(model, X, y, cv=3, scoring="balanced_accuracy").mean(),
)
