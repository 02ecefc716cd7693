"""Log a fitted VAETransformer with MLflow, load it back, and serve
``transform`` and ``score_samples`` through ``mlflow.pyfunc``."""

import mlflow
from mlflow.models import infer_signature
from sklearn.datasets import load_digits

from skvae import VAETransformer

X, _ = load_digits(return_X_y=True)
vae = VAETransformer(
    n_components=2, hidden_layer_sizes=(64,), max_iter=5, random_state=0
)
vae.fit(X)

# MLflow saves scikit-learn models with skops, which loads only the types
# it is told to trust: name skvae's classes (add "skvae.VAEOutlierDetector"
# for a detector, and "skvae.PyODVAEDetector" too for the PyOD one). Naming
# the requirements spares MLflow from inferring them (it would load the
# model in a new Python process to see what it imports). MLflow logs that
# the model has no predict, so no pyfunc flavour is saved: see below.
with mlflow.start_run():
    info = mlflow.sklearn.log_model(
        vae,
        name="vae",
        skops_trusted_types=["skvae.VAETransformer"],
        pip_requirements=["skvae"],
    )
loaded = mlflow.sklearn.load_model(info.model_uri)
print(loaded.transform(X[:2]))

# mlflow.pyfunc serves predict() only: vae_pyfunc_model.py wraps the VAE in a
# PythonModel whose predict runs transform, or score_samples when asked.
signature = infer_signature(X, vae.transform(X), params={"method": "transform"})
with mlflow.start_run():
    served_info = mlflow.pyfunc.log_model(
        name="vae_pyfunc",
        python_model="vae_pyfunc_model.py",
        artifacts={"vae": info.model_uri},
        signature=signature,
        input_example=X[:2],
        pip_requirements=["skvae"],
    )
served = mlflow.pyfunc.load_model(served_info.model_uri)
print(served.predict(X[:2]))  # latent codes
print(served.predict(X[:2], params={"method": "score_samples"}))  # log p(x)
