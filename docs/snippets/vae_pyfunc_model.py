"""An MLflow PythonModel serving a VAETransformer's transform or
score_samples, logged as code (``python_model="vae_pyfunc_model.py"``)."""

import mlflow
import numpy as np


class VAEPyfuncModel(mlflow.pyfunc.PythonModel):
    """``predict(X)`` returns the latent codes; ``predict(X, params={"method":
    "score_samples"})`` the log-likelihood of each row."""

    def load_context(self, context):
        self.vae = mlflow.sklearn.load_model(context.artifacts["vae"])

    # The type hints tell MLflow that the input is an array, checked against
    # the signature the model is logged with (without them, MLflow warns).
    def predict(self, context, model_input: np.ndarray, params=None) -> np.ndarray:
        method = (params or {}).get("method", "transform")
        if method == "score_samples":
            return self.vae.score_samples(np.asarray(model_input))
        if method == "transform":
            return self.vae.transform(np.asarray(model_input))
        raise ValueError(
            f"method must be 'transform' or 'score_samples'; got {method!r}"
        )


mlflow.models.set_model(VAEPyfuncModel())
