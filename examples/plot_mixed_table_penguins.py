"""
A table of mixed types: penguins
================================

The Palmer penguins table has what real tables have: categorical columns
(species, island, sex), a year with three values, four measurements in
their own units, and missing values (two birds were not measured, eleven
were not sexed). ``VAETransformer(likelihood="auto")`` gives each column its
own likelihood, chosen from the frame's dtypes: a softmax over the levels
for the categorical columns and the year, a Gaussian for each measurement.
It trains on the observed cells only, so nothing is dropped or imputed
first.

This example draws three things from one such model:

1. the latent map of the birds, coloured by species (which the model saw as
   one column among eight, not as a label);
2. :class:`skvae.VAEImputer`'s fill-ins for cells hidden from a complete
   copy of the table, next to the truth;
3. new birds sampled from the model, as a data frame with the table's
   columns, dtypes and levels.

The figure is written to ``penguins.png`` in the working directory, or to
the path given as the first command-line argument.
"""

# %%
# The table and its likelihoods
# -----------------------------
import os
import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from skvae import VAEImputer, VAETransformer

warnings.simplefilter("ignore", ConvergenceWarning)
here = Path(__file__).parent if "__file__" in globals() else Path(".")
penguins = pd.read_csv(here / "data" / "penguins.csv")
for column in ("species", "island", "sex"):
    penguins[column] = penguins[column].astype("category")

vae = VAETransformer(n_components=2, likelihood="auto", random_state=0)
codes = vae.fit_transform(penguins)
print(dict(zip(penguins.columns, vae.column_likelihoods_["kinds"], strict=True)))
print(f"trained {vae.n_iter_} epochs")
print(f"mean log-likelihood: {vae.score(penguins):.2f} nats per bird")

# %%
# Hide cells, fill them in
# ------------------------
# A fifth of the cells of the complete rows are hidden; the imputer fits a
# VAE on what is left and fills each hidden cell with its conditional mean
# given the bird's other cells (the most probable level for a category).
complete = penguins.dropna().reset_index(drop=True)
rng = np.random.RandomState(0)
hidden = rng.uniform(size=complete.shape) < 0.2
hidden[hidden.all(axis=1), 0] = False
holes = complete.mask(hidden)
imputer = VAEImputer(VAETransformer(n_components=4, likelihood="auto"), random_state=0)
filled = imputer.fit_transform(holes)

measurements = ["bill_length_mm", "flipper_length_mm", "body_mass_g"]
for column in ("species", "sex"):
    cells = hidden[:, complete.columns.get_loc(column)]
    accuracy = (filled.loc[cells, column] == complete.loc[cells, column]).mean()
    print(f"{column}: {accuracy:.0%} of {cells.sum()} hidden cells filled right")

# %%
# New birds
# ---------
samples, _ = vae.sample(6, random_state=0)
print(samples.round(1).to_string())

# %%
# The figure
# ----------
# Two rows of two, so the panels stay legible in the documentation's page
# width and in the gallery's thumbnail.
fig, axes = plt.subplots(2, 2, figsize=(10, 8))
axes = axes.ravel()
colours = ["tab:orange", "tab:purple", "tab:cyan"]
for species, colour in zip(penguins["species"].cat.categories, colours, strict=True):
    rows = (penguins["species"] == species).to_numpy()
    axes[0].scatter(*codes[rows].T, s=10, color=colour, label=species)
axes[0].set(title="Latent space (posterior means)", xlabel="$z_1$", ylabel="$z_2$")
axes[0].legend(frameon=False, loc="lower right")
for ax, column in zip(axes[1:], measurements, strict=True):
    cells = hidden[:, complete.columns.get_loc(column)]
    truth, guess = complete.loc[cells, column], filled.loc[cells, column]
    ax.scatter(truth, guess, s=12)
    low, high = truth.min(), truth.max()
    ax.plot([low, high], [low, high], color="grey", lw=1)
    ax.set(title=f"{column}: hidden cells", xlabel="truth", ylabel="imputed")
fig.tight_layout()
output = sys.argv[1] if len(sys.argv) > 1 else "penguins.png"
fig.savefig(output, dpi=100)
# The name only: the documentation build passes a temporary path.
print(f"Figure saved as {os.path.basename(output)}")
plt.show()
