"""skvae: variational auto-encoders as scikit-learn estimators.

The package offers :class:`VAETransformer`, Kingma & Welling's Auto-Encoding
Variational Bayes on a PyTorch core, with the scikit-learn API: fit,
transform, inverse_transform, sample, score_samples and score;
:class:`VAEOutlierDetector`, which scores rows by their likelihood under a
fitted VAE with scikit-learn's outlier-detector API; :class:`VAEImputer`,
which fills missing values from VAEs; and :class:`VAESynthesizer`, which
draws synthetic tables from one. Where PyOD is installed,
:class:`PyODVAEDetector` offers the same detector with PyOD's conventions.
"""

from ._estimator import VAETransformer
from ._imputer import VAEImputer
from ._onnx import export_onnx, register_onnx_converters
from ._outlier import VAEOutlierDetector
from ._synthesizer import VAESynthesizer

# The public classes belong to the package's namespace: pickles, skops and
# MLflow then name them skvae.VAETransformer, not a private module.
VAETransformer.__module__ = __name__
VAEOutlierDetector.__module__ = __name__
VAEImputer.__module__ = __name__
VAESynthesizer.__module__ = __name__
export_onnx.__module__ = __name__
register_onnx_converters.__module__ = __name__

__version__ = "0.2.0"

# PyODVAEDetector (below) is public too, but left out of __all__ so that a
# star import works without PyOD.
__all__ = [
    "VAEImputer",
    "VAEOutlierDetector",
    "VAESynthesizer",
    "VAETransformer",
    "__version__",
    "export_onnx",
    "register_onnx_converters",
]


def __getattr__(name):
    # PyODVAEDetector subclasses PyOD's BaseDetector, so it is imported only
    # when asked for: skvae itself does not need PyOD.
    if name == "PyODVAEDetector":
        try:
            from ._pyod import PyODVAEDetector
        except ImportError as error:
            raise ImportError(
                "skvae.PyODVAEDetector needs the pyod package: pip install pyod"
            ) from error
        PyODVAEDetector.__module__ = __name__
        return PyODVAEDetector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
