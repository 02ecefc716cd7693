"""Train out of core with dask-ml's Incremental, then transform and score a
dask array block by block on a LocalCluster."""

import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster
from dask_ml.wrappers import Incremental

from skvae import VAETransformer

# 20 million rows of 16 float32 features: 1.28 GB, more than a worker may hold
# (1 GiB, of which torch and skvae take about 460 MB).
N_ROWS = 20_000_000

if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="1GiB")
    client = Client(cluster)

    # Rows from a 2-factor model, generated lazily in blocks of 100,000 rows.
    rng = da.random.RandomState(0)
    factors = rng.normal(size=(N_ROWS, 2), chunks=(100_000, 2))
    loadings = np.random.RandomState(1).normal(size=(2, 16))
    X = factors @ loadings + 0.3 * rng.normal(size=(N_ROWS, 16), chunks=(100_000, 16))
    X = X.astype(np.float32)

    # One pass for the standardisation, so training does not depend on the
    # block it starts with.
    mean, std = da.compute(X.mean(axis=0), X.std(axis=0))
    vae = VAETransformer(
        n_components=2,
        hidden_layer_sizes=(16,),
        batch_size=2048,
        n_importance_samples=8,
        input_scaling=(mean, std),
        random_state=0,
    )
    # Incremental calls partial_fit on one block after another: one epoch.
    model = Incremental(vae, shuffle_blocks=True, random_state=0).fit(X)
    fitted = model.estimator_

    # transform and score_samples, block by block on the workers. Give the
    # output's chunks: the codes have n_components columns, the scores none.
    codes = X.map_blocks(fitted.transform, chunks=(X.chunks[0], (2,)), dtype=np.float32)
    scores = X.map_blocks(fitted.score_samples, drop_axis=1, dtype=np.float64)
    print(codes.shape, scores.shape)  # (N_ROWS, 2) (N_ROWS,)
    mean_score, first_codes = da.compute(scores.mean(), codes[:3])
    print("mean log-likelihood per row:", mean_score)
    print("first codes:", first_codes)

    client.close()
    cluster.close()
