"""
A variational auto-encoder in a scikit-learn pipeline
=====================================================

This example fits :class:`skvae.VAETransformer` to the 8x8 hand-written
digits that ship with scikit-learn, as the last step of a
:class:`~sklearn.pipeline.Pipeline`. It shows the three things a VAE gives
that a linear projection does not: a non-linear two-dimensional map of the
data, a generator of new images, and a decoder that turns a code back into an
image. It then checks the held-out log-likelihood of a Gaussian VAE against
:class:`~sklearn.decomposition.PCA` and
:class:`~sklearn.decomposition.FactorAnalysis` with the same two latent
dimensions.

The figure is written to ``digits_vae.png`` in the working directory, or to
the path given as the first command-line argument.
"""

# %%
# Data
# ----
# 1797 grey-level images with values 0 to 16, flattened to 64 features.
# A quarter of them is kept aside to evaluate every model.
import os
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.feature_selection import VarianceThreshold
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skvae import VAETransformer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
print(
    f"{X_train.shape[0]} training rows, {X_test.shape[0]} test rows, "
    f"{X.shape[1]} features"
)

# %%
# A Bernoulli VAE on pixels scaled to [0, 1]
# ------------------------------------------
# The Bernoulli likelihood treats each pixel as the probability of ink, so the
# pixels are first mapped to [0, 1]. ``clip=True`` matters: a pixel that is
# faint in every training image can be darker in a test image, and without
# clipping it would be scaled above 1, which the Bernoulli likelihood
# rejects. With ``early_stopping=True`` a tenth of the training rows is held
# out to decide when to stop, and the weights of the best epoch are kept.
pipeline = Pipeline(
    [
        ("scale", MinMaxScaler(clip=True)),
        (
            "vae",
            VAETransformer(
                n_components=2,
                likelihood="bernoulli",
                activation="tanh",
                batch_size=32,
                learning_rate=3e-3,
                max_iter=200,
                early_stopping=True,
                n_iter_no_change=20,
                random_state=0,
            ),
        ),
    ]
)
start = time.perf_counter()
pipeline.fit(X_train)
vae = pipeline.named_steps["vae"]
print(
    f"Bernoulli VAE: {time.perf_counter() - start:.1f} s, "
    f"{vae.n_iter_} epochs, final training loss {vae.loss_curve_[-1]:.2f} nats"
)

# %%
# ``Pipeline.score`` scales the test images and calls the VAE's ``score``:
# the mean, over rows, of an importance-weighted lower bound on log p(x).
# On grey levels in [0, 1] the Bernoulli "log-likelihood" is a negative
# cross-entropy, not the log of a normalised density, so it can only be
# compared with other Bernoulli models on the same scaled pixels.
print(
    f"Bernoulli VAE: held-out bound {pipeline.score(X_test):.2f} nats per image "
    "(cross-entropy on [0, 1] pixels; not comparable with the densities below)"
)

# %%
# Comparing densities with PCA and factor analysis
# ------------------------------------------------
# PCA (probabilistic PCA) and factor analysis also define a density of the
# data through two latent dimensions, and their ``score`` has the same
# meaning as the VAE's: the mean held-out log-likelihood. For a fair
# comparison the three models see the same features: the raw pixels, with the
# pixels that are constant in the training images removed (a constant
# feature has no density). The VAE uses its default Gaussian likelihood,
# which standardises the features internally but reports log-likelihoods in
# the units of the pixels, so the three numbers are directly comparable.
#
# A few test images have ink where almost no training image has any, and
# every model gives them a very low likelihood; these rows pull the means
# down, so the medians are printed as well.
density_models = {
    "PCA(2)": PCA(n_components=2),
    "FactorAnalysis(2)": FactorAnalysis(n_components=2, random_state=0),
    "Gaussian VAE(2)": VAETransformer(
        n_components=2,
        batch_size=64,
        learning_rate=3e-3,
        max_iter=150,
        early_stopping=True,
        random_state=0,
    ),
}
print("Held-out log-likelihood of the raw pixels, nats per image (higher is better):")
print(f"  {'model':<18} {'mean':>9} {'median':>9}")
for name, model in density_models.items():
    density = make_pipeline(VarianceThreshold(), model).fit(X_train)
    log_likelihood = density.score_samples(X_test)
    print(f"  {name:<18} {log_likelihood.mean():9.2f} {np.median(log_likelihood):9.2f}")

# %%
# On a typical test image (the median) the non-linear VAE is far ahead of the
# two linear models. The means are much closer, because they are dominated by
# the few atypical images that no model explains well.

# %%
# Latent space, samples and reconstructions
# -----------------------------------------
# Left: the posterior means of the test images (``transform``), coloured by
# the digit they show; the labels were never used for training. Middle: new
# images. ``sample`` draws z from the prior N(0, I) and then x from the
# Bernoulli decoder, which gives speckled black-and-white pixels; the grid
# shows instead the decoder's mean E[x | z] for the same draws of z
# (``inverse_transform``), the usual way to picture a VAE's samples. Right:
# test images above their reconstructions, computed as
# ``inverse_transform(transform(X))`` through the whole pipeline, so they come
# back in the original 0-16 grey levels.


def tile(images, n_rows, n_cols, pad=1):
    """Arrange flattened 8x8 images on a grid with blank (NaN) margins."""
    size = 8 + pad
    canvas = np.full((n_rows * size + pad, n_cols * size + pad), np.nan)
    for index, image in enumerate(images[: n_rows * n_cols]):
        row, col = divmod(index, n_cols)
        top, left = pad + row * size, pad + col * size
        canvas[top : top + 8, left : left + 8] = image.reshape(8, 8)
    return canvas


Z_test = pipeline.transform(X_test)
_, Z_new = vae.sample(36, random_state=1)
new_images = vae.inverse_transform(Z_new)

# Three blocks of two image rows: 8 test images above their reconstructions.
n_blocks, per_row = 3, 8
shown = X_test[: n_blocks * per_row]
reconstructed = pipeline.inverse_transform(pipeline.transform(shown))
blocks, row_centres = [], []
for b in range(n_blocks):
    rows = slice(b * per_row, (b + 1) * per_row)
    block = tile(np.concatenate([shown[rows], reconstructed[rows]]), 2, per_row)
    top = sum(len(earlier) for earlier in blocks)
    row_centres += [top + 4.5, top + 13.5]  # middles of the two image rows
    blocks += [block, np.full((3, block.shape[1]), np.nan)]  # block, then a gap
pairs = np.concatenate(blocks[:-1])

# The latent map across the top, the images below: a figure about as tall
# as it is wide stays legible in the documentation's page width and in the
# gallery's thumbnail.
fig = plt.figure(figsize=(12, 11), layout="constrained")
panels = fig.subplot_mosaic(
    [["latent", "latent"], ["samples", "recon"]], height_ratios=[1.1, 1]
)
ax_latent, ax_samples, ax_recon = panels["latent"], panels["samples"], panels["recon"]
cmap = plt.get_cmap("tab10")
for digit in range(10):
    points = Z_test[y_test == digit]
    ax_latent.scatter(*points.T, s=12, color=cmap(digit), label=str(digit))
    ax_latent.annotate(
        str(digit),
        np.median(points, axis=0),
        fontsize=13,
        weight="bold",
        ha="center",
        va="center",
        bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec=cmap(digit), alpha=0.8),
    )
ax_latent.set(
    title="Test digits in the latent space (posterior means)",
    xlabel="$z_1$",
    ylabel="$z_2$",
)
ax_latent.legend(
    title="digit",
    loc="center left",
    bbox_to_anchor=(1, 0.5),
    markerscale=2,
    frameon=False,
)

gray = plt.get_cmap("gray_r").with_extremes(bad="white")
ax_samples.imshow(tile(new_images, 6, 6), cmap=gray, vmin=0, vmax=1)
ax_samples.set_title("Generated: decoder means E[x | z], z ~ N(0, I)")
ax_samples.set_axis_off()

ax_recon.imshow(pairs, cmap=gray, vmin=0, vmax=16)
ax_recon.set_title("Test images and their reconstructions")
ax_recon.set_yticks(row_centres, ["test", "recon."] * n_blocks)
ax_recon.set_xticks([])
ax_recon.tick_params(length=0)
for spine in ax_recon.spines.values():
    spine.set_visible(False)

output = sys.argv[1] if len(sys.argv) > 1 else "digits_vae.png"
fig.savefig(output, dpi=100)
# The name only: the documentation build passes a temporary path.
print(f"Figure saved as {os.path.basename(output)}")
plt.show()
