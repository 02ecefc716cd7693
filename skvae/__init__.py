"""skvae: variational auto-encoders as scikit-learn estimators.

The package offers :class:`VAETransformer`, Kingma & Welling's Auto-Encoding
Variational Bayes on a PyTorch core, with the scikit-learn API: fit,
transform, inverse_transform, sample, score_samples and score.
"""

from ._estimator import VAETransformer

__version__ = "0.1.0"

__all__ = ["VAETransformer", "__version__"]
