"""Wall-clock time of a VAETransformer grid search, serial and in parallel.

The same ``GridSearchCV(VAETransformer(...), grid, cv=3)`` on scikit-learn's
8x8 digits (constant pixels removed) is run several ways, each with the
same ``random_state``:

* ``n_jobs=1``: every fit in this process, with PyTorch's default number of
  threads (one per core);
* ``n_jobs=1, 1 thread``: the same, after ``torch.set_num_threads(1)``. It
  does exactly the arithmetic of the parallel run, one fit at a time, so it
  shows whether the parallel scores differ from the serial ones because of
  the parallelism or because of the thread count;
* ``n_jobs=2``: two loky worker processes. joblib starts them with
  ``OMP_NUM_THREADS`` (and the other thread-pool variables) set to
  ``cpu_count // n_jobs``, so each worker's PyTorch uses that many threads;
* ``dask`` (with ``--dask``): a ``LocalCluster(n_workers=2,
  threads_per_worker=1)`` behind ``joblib.parallel_config(backend="dask")``.
  Dask starts its worker processes with ``OMP_NUM_THREADS=1``.

The search is scored by the estimator's own ``score`` (mean held-out
log-likelihood). To see where each fit ran and how many threads its PyTorch
had, the scorer also returns ``os.getpid()`` and ``torch.get_num_threads()``
as two extra "metrics", read in the process that fitted the candidate; they
do not change the score or the choice of the best candidate.

Each run is repeated ``--repeats`` times (3 by default), going round all the
runs in turn, and the fastest repetition counts; with more than one
repetition this leaves out the start-up of the loky workers, which happens
in the first. The Dask cluster's start-up is timed separately. For every run
the table gives:

* the wall-clock seconds of the whole search, and of its cross-validation
  part alone (the refit of the best candidate always runs in this process),
  with the speed-ups over ``n_jobs=1``;
* the PyTorch threads per fit and the number of processes that ran fits;
* the largest absolute difference of ``cv_results_["mean_test_score"]`` from
  the ``n_jobs=1`` run and from the one-thread run;
* the range of the machine's 1-minute load average around the run. On a
  machine shared with other work the timings mean little, so look at the
  load first.

Run ``python benchmarks/grid_search_n_jobs.py [--dask] [--max-iter N]
[--repeats R]``.
"""

import argparse
import os
import platform
import time
import warnings

import joblib
import numpy as np
import sklearn
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import VarianceThreshold
from sklearn.model_selection import GridSearchCV

import skvae
from skvae import VAETransformer

PARAM_GRID = {"n_components": [2, 5, 10], "beta": [0.5, 1.0]}
CV = 3


def score_with_provenance(estimator, X, y=None):
    """The estimator's score, plus where and with how many threads it ran."""
    return {
        "score": estimator.score(X),
        "pid": os.getpid(),
        "torch_threads": torch.get_num_threads(),
    }


def make_search(max_iter, n_jobs):
    return GridSearchCV(
        # skvae 0.1's network and objective, which the recorded runs used.
        VAETransformer(
            hidden_layer_sizes=(128, 64),
            learning_rate=1e-3,
            objective="elbo",
            n_mc_samples=1,
            lr_plateau_decays=0,
            max_iter=max_iter,
            early_stopping=True,
            random_state=0,
        ),
        PARAM_GRID,
        cv=CV,
        scoring=score_with_provenance,
        refit="score",
        n_jobs=n_jobs,
    )


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_1min():
    return os.getloadavg()[0]


class Run:
    """One way of running the search, timed over several repetitions."""

    def __init__(self, name, n_jobs, before=None, after=None, backend=None):
        self.name, self.n_jobs, self.backend = name, n_jobs, backend
        self.before, self.after = before, after
        self.seconds, self.cv_seconds, self.loads = [], [], []

    def __call__(self, X, max_iter):
        if self.before is not None:
            self.before()
        search = make_search(max_iter, self.n_jobs)
        load = load_1min()
        start = time.perf_counter()
        with warnings.catch_warnings():
            # Most fits use all of max_iter; the budget is the same for every
            # run, so the warning says nothing about the comparison.
            warnings.simplefilter("ignore", ConvergenceWarning)
            if self.backend is None:
                search.fit(X)
            else:
                with joblib.parallel_config(backend=self.backend):
                    search.fit(X)
        seconds = time.perf_counter() - start
        self.loads += [load, load_1min()]
        if self.after is not None:
            self.after()
        self.seconds.append(seconds)
        self.cv_seconds.append(seconds - search.refit_time_)
        results = search.cv_results_
        self.scores = results["mean_test_score"]
        self.best = search.best_params_
        self.n_processes = len(
            {int(pid) for k in range(CV) for pid in results[f"split{k}_test_pid"]}
        )
        self.threads = sorted(
            {
                int(count)
                for k in range(CV)
                for count in results[f"split{k}_test_torch_threads"]
            }
        )


def start_dask_cluster():
    from dask.distributed import Client, LocalCluster

    start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    worker_threads = client.run(torch.get_num_threads)
    worker_env = client.run(lambda: os.environ.get("OMP_NUM_THREADS"))
    return client, cluster, time.perf_counter() - start, worker_threads, worker_env


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-iter", type=int, default=40, help="epochs per fit (default 40)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="time each run this many times and keep the fastest (default 3)",
    )
    parser.add_argument(
        "--dask", action="store_true", help="also run on a 2-worker LocalCluster"
    )
    args = parser.parse_args()

    X, _ = load_digits(return_X_y=True)
    X = VarianceThreshold().fit_transform(X)
    n_candidates = int(np.prod([len(values) for values in PARAM_GRID.values()]))
    print(
        f"skvae {skvae.__version__}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, joblib {joblib.__version__}, Python "
        f"{platform.python_version()}"
    )
    print(
        f"Machine: {os.cpu_count()} logical CPUs, {cpu_model()}; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} here"
    )
    print(
        f"Grid: {PARAM_GRID} = {n_candidates} candidates x {CV} folds = "
        f"{n_candidates * CV} fits + 1 refit; digits {X.shape}, "
        f"max_iter={args.max_iter}, early_stopping=True, random_state=0, "
        f"best of {args.repeats}"
    )
    print(f"Load average before the first run: {os.getloadavg()}\n")

    default_threads = torch.get_num_threads()
    runs = [
        Run("n_jobs=1", 1),
        Run(
            "n_jobs=1, 1 thread",
            1,
            before=lambda: torch.set_num_threads(1),
            after=lambda: torch.set_num_threads(default_threads),
        ),
        Run("n_jobs=2", 2),
    ]
    if args.dask:
        client, cluster, startup, worker_threads, worker_env = start_dask_cluster()
        print(
            f"Dask LocalCluster started in {startup:.1f} s (not in the table); "
            f"torch threads per worker {sorted(worker_threads.values())}, "
            f"OMP_NUM_THREADS per worker {sorted(worker_env.values())}"
        )
        runs.append(Run("dask, 2 workers", -1, backend="dask"))
    try:
        # Repetitions go round all the runs in turn, so that a burst of other
        # work on the machine slows all of them rather than one.
        for repeat in range(args.repeats):
            for run in runs:
                run(X, args.max_iter)
                print(
                    f"  repeat {repeat + 1}, {run.name}: {run.seconds[-1]:.1f} s, "
                    f"load {run.loads[-2]:.2f} -> {run.loads[-1]:.2f}",
                    flush=True,
                )
    finally:
        if args.dask:
            client.close()
            cluster.close()
    print()

    serial, one_thread = runs[0], runs[1]
    header = (
        f"{'run':<18} {'search s':>8} {'speed-up':>8} {'CV s':>6} {'speed-up':>8} "
        f"{'threads/fit':>11} {'processes':>9} {'max|diff| vs n_jobs=1':>21} "
        f"{'vs 1 thread':>11} {'1-min load':>11}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        threads = ",".join(str(count) for count in run.threads)
        diff_serial = np.max(np.abs(run.scores - serial.scores))
        diff_one = np.max(np.abs(run.scores - one_thread.scores))
        load = f"{min(run.loads):.2f}-{max(run.loads):.2f}"
        print(
            f"{run.name:<18} {min(run.seconds):8.1f} "
            f"{min(serial.seconds) / min(run.seconds):7.2f}x "
            f"{min(run.cv_seconds):6.1f} "
            f"{min(serial.cv_seconds) / min(run.cv_seconds):7.2f}x "
            f"{threads:>11} {run.n_processes:9d} {diff_serial:21.2e} "
            f"{diff_one:11.2e} {load:>11}"
        )
    print(
        "\nsearch s: best of the repeats, refit included; CV s: the same run "
        "without the refit of the best candidate (refit_time_), which always "
        "runs in this process.\n1-min load: the range of the load average "
        "before and after the run's repetitions; it includes this benchmark "
        "(about 1 during a serial run, 2 during a parallel one).\nThe first "
        f"n_jobs=2 run also starts the loky workers: {runs[2].seconds[0]:.1f} s."
    )
    for run in runs:
        print(f"Best parameters, {run.name}: {run.best}")
    print(f"Load average after the last run: {os.getloadavg()}")


if __name__ == "__main__":
    main()
