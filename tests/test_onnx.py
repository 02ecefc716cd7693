"""ONNX export: onnxruntime reproduces transform and inverse_transform.

Skipped where onnx or onnxruntime is not installed (the ``onnx`` extra); the
skl2onnx tests also need skl2onnx.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skvae import VAETransformer, export_onnx, register_onnx_converters

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")


def run(model, inputs):
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: inputs})[0]


@pytest.fixture(scope="module")
def counts():
    return np.random.RandomState(0).poisson(3.0, size=(150, 6)).astype(float)


@pytest.mark.parametrize(
    "likelihood, activation, decoder_variance",
    [
        ("gaussian", "relu", "per_point"),
        ("gaussian", "gelu", "per_feature"),
        ("gaussian_sigmoid", "tanh", "per_point"),
        ("bernoulli", "elu", "per_point"),
        ("poisson", "softplus", "per_point"),
        ("gaussian", "logistic", "per_point"),
    ],
)
def test_onnx_runtime_matches_transform_and_inverse_transform(
    counts, quiet_fit, likelihood, activation, decoder_variance
):
    X = counts if likelihood in ("gaussian", "poisson") else counts / counts.max()
    vae = VAETransformer(
        n_components=3,
        hidden_layer_sizes=(16, 8),
        activation=activation,
        likelihood=likelihood,
        decoder_variance=decoder_variance,
        max_iter=3,
        random_state=0,
    )
    quiet_fit(vae, X)
    Z = vae.transform(X)
    assert np.abs(run(export_onnx(vae), X.astype(np.float32)) - Z).max() <= 1e-5
    decoded = run(export_onnx(vae, method="inverse_transform"), Z.astype(np.float32))
    assert np.abs(decoded - vae.inverse_transform(Z)).max() <= 1e-5
    in_float64 = run(export_onnx(vae, dtype=np.float64), X)
    assert in_float64.dtype == np.float64
    assert np.abs(in_float64 - Z).max() <= 1e-6


def test_export_writes_a_file_and_checks_its_arguments(counts, quiet_fit, tmp_path):
    vae = quiet_fit(VAETransformer(hidden_layer_sizes=(4,), max_iter=1), counts)
    path = tmp_path / "encoder.onnx"
    export_onnx(vae, path)
    loaded = onnx.load(path)
    assert [i.name for i in loaded.graph.input] == ["X"]
    assert [o.name for o in loaded.graph.output] == ["Z"]
    # Opset 13's format (IR 7), whatever onnx wrote it: runtimes older than
    # the installed onnx load it too.
    assert loaded.ir_version == 7
    assert export_onnx(vae, target_opset=17).ir_version == 8
    with pytest.raises(ValueError, match="method must be one of"):
        export_onnx(vae, method="score_samples")
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        export_onnx(vae, dtype=np.int32)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        export_onnx(VAETransformer())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_skl2onnx_converts_a_pipeline_with_the_vae(counts, quiet_fit, dtype):
    skl2onnx = pytest.importorskip("skl2onnx")
    register_onnx_converters()
    register_onnx_converters()  # a second call is harmless
    X = counts.astype(dtype)
    vae = VAETransformer(n_components=2, hidden_layer_sizes=(8,), max_iter=3)
    pipeline = quiet_fit(
        make_pipeline(StandardScaler(), vae.set_params(random_state=0)), X
    )
    model = skl2onnx.to_onnx(pipeline, X[:1])
    assert np.abs(run(model, X) - pipeline.transform(X)).max() <= 1e-5
    alone = skl2onnx.to_onnx(pipeline[-1], X[:1])
    assert np.abs(run(alone, X) - pipeline[-1].transform(X)).max() <= 1e-5


def test_models_onnx_cannot_express_are_refused(counts, quiet_fit):
    frame = pd.DataFrame(
        {"a": counts[:, 0] * 1.5, "b": pd.Categorical(counts[:, 1] > 3)}
    )
    mixed = quiet_fit(
        VAETransformer(hidden_layer_sizes=(4,), max_iter=1, likelihood="auto"), frame
    )
    with pytest.raises(NotImplementedError, match="no ONNX export"):
        export_onnx(mixed)
    holes = counts.copy()
    holes[0, 0] = np.nan
    gappy = quiet_fit(VAETransformer(hidden_layer_sizes=(4,), max_iter=1), holes)
    with pytest.raises(NotImplementedError, match="missing values"):
        export_onnx(gappy)
