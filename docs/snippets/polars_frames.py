"""Fit a VAETransformer on a polars DataFrame and get polars DataFrames
back."""

import polars as pl
from sklearn.datasets import load_iris

from skvae import VAETransformer

iris = load_iris(as_frame=True).frame.drop(columns="target")
frame = pl.from_pandas(iris)

vae = VAETransformer(n_components=2, max_iter=20, random_state=0)
vae.set_output(transform="polars")
codes = vae.fit_transform(frame)
print(codes.head(3))  # columns vaetransformer0, vaetransformer1
print(vae.feature_names_in_)  # the polars column names
