"""Models saved by released versions keep loading and scoring the same.

Compatibility promise: a model pickled (``pickle`` or ``joblib``) by skvae
0.1.x loads in every later release and gives the same ``transform``,
``inverse_transform``, ``score_samples`` and seeded ``sample`` output. The
fixtures in tests/fixtures/ were written by tests/fixtures/make_fixture.py.
"""

import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAVED = sorted(FIXTURES.glob("vae_*.joblib"))


def test_there_is_a_fixture():
    assert SAVED, "tests/fixtures/make_fixture.py has not been run"


@pytest.mark.parametrize("path", SAVED, ids=[path.stem for path in SAVED])
def test_saved_model_loads_and_scores_the_same(path):
    vae = joblib.load(path)
    expected = np.load(path.with_name(path.stem + "_expected.npz"))
    X = expected["X"]
    Z = vae.transform(X)
    # Same numbers up to the last bits that another CPU's BLAS may change.
    np.testing.assert_allclose(Z, expected["transform"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        vae.inverse_transform(Z), expected["inverse_transform"], rtol=1e-10
    )
    np.testing.assert_allclose(
        vae.score_samples(X), expected["score_samples"], rtol=1e-10
    )
    np.testing.assert_allclose(vae.sample(5)[0], expected["sample"], rtol=1e-10)
    vae.partial_fit(X)  # and it can keep training


@pytest.mark.parametrize("name", ["VAETransformer", "VAEOutlierDetector"])
def test_public_classes_pickle_under_the_package_name(name):
    import pickle

    import skvae

    cls = getattr(skvae, name)
    assert cls.__module__ == "skvae"
    payload = pickle.dumps(cls())
    assert b"skvae._" not in payload
    assert type(pickle.loads(payload)) is cls


def test_skops_round_trip_trusts_only_public_skvae_names():
    """skops (MLflow's default format for scikit-learn models) saves a fitted
    VAE and detector, asks to trust only skvae's public classes, and loads
    them scoring the same."""
    sio = pytest.importorskip("skops.io")
    from skvae import VAEOutlierDetector, VAETransformer

    X = np.random.RandomState(0).normal(size=(200, 4))
    small = VAETransformer(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    for estimator, trusted in [
        (small, ["skvae.VAETransformer"]),
        (
            VAEOutlierDetector(vae=small, random_state=0),
            ["skvae.VAEOutlierDetector", "skvae.VAETransformer"],
        ),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X)
        data = sio.dumps(estimator)
        assert sorted(sio.get_untrusted_types(data=data)) == sorted(trusted)
        loaded = sio.loads(data, trusted=trusted)
        np.testing.assert_array_equal(
            loaded.score_samples(X), estimator.score_samples(X)
        )
