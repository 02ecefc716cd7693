"""Save a fitted VAETransformer with skops and load it back, trusting only
skvae's public class."""

import numpy as np
import skops.io as sio
from sklearn.datasets import load_digits

from skvae import VAETransformer

X, _ = load_digits(return_X_y=True)
vae = VAETransformer(n_components=2, max_iter=5, random_state=0).fit(X)
X_new = X[:100]

sio.dump(vae, "vae.skops")
print(sio.get_untrusted_types(file="vae.skops"))  # ['skvae.VAETransformer']
loaded = sio.load("vae.skops", trusted=["skvae.VAETransformer"])
assert np.array_equal(loaded.score_samples(X_new), vae.score_samples(X_new))
