"""skvae: variational auto-encoders as scikit-learn estimators.

The package offers :class:`VAETransformer`, Kingma & Welling's Auto-Encoding
Variational Bayes on a PyTorch core, with the scikit-learn API: fit,
transform, inverse_transform, sample, score_samples and score; and
:class:`VAEOutlierDetector`, which scores rows by their likelihood under a
fitted VAE with scikit-learn's outlier-detector API.
"""

from ._estimator import VAETransformer
from ._outlier import VAEOutlierDetector

# The public classes belong to the package's namespace: pickles, skops and
# MLflow then name them skvae.VAETransformer, not a private module.
VAETransformer.__module__ = __name__
VAEOutlierDetector.__module__ = __name__

__version__ = "0.2.0"

__all__ = ["VAEOutlierDetector", "VAETransformer", "__version__"]
