"""Models saved by released versions keep loading and scoring the same.

Compatibility promise: a model pickled (``pickle`` or ``joblib``) by skvae
0.1.x loads in every later release and gives the same ``transform``,
``inverse_transform``, ``score_samples`` and seeded ``sample`` output. The
fixtures in tests/fixtures/ were written by tests/fixtures/make_fixture.py.
"""

from pathlib import Path

import joblib
import numpy as np
import pytest

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
