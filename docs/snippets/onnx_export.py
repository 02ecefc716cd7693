"""Export a fitted VAETransformer to ONNX, alone or in a Pipeline, and run
it with ONNX Runtime."""

import numpy as np
import onnxruntime
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skvae import VAETransformer, export_onnx, register_onnx_converters

X, _ = load_digits(return_X_y=True)
X = X.astype(np.float32)
vae = VAETransformer(n_components=2, max_iter=5, random_state=0).fit(X)


def run(model, inputs):
    session = onnxruntime.InferenceSession(model.SerializeToString())
    return session.run(None, {session.get_inputs()[0].name: inputs})[0]


# The encoder (what transform computes) and the decoder mean (what
# inverse_transform computes), standardisation included.
encoder = export_onnx(vae, "vae_encoder.onnx")
decoder = export_onnx(vae, "vae_decoder.onnx", method="inverse_transform")
codes = run(encoder, X)
print("encoder, largest difference:", np.abs(codes - vae.transform(X)).max())
print(
    "decoder, largest difference:",
    np.abs(run(decoder, codes) - vae.inverse_transform(codes)).max(),
)

# skl2onnx converts the VAE inside a Pipeline once its converter is
# registered.
register_onnx_converters()
pipeline = make_pipeline(
    MinMaxScaler(), VAETransformer(n_components=2, max_iter=5, random_state=0)
).fit(X)
onnx_pipeline = to_onnx(pipeline, X[:1])
print(
    "pipeline, largest difference:",
    np.abs(run(onnx_pipeline, X) - pipeline.transform(X)).max(),
)
