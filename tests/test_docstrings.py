"""The examples in the public names' docstrings, methods included, run.

``--doctest-modules`` collects only what is defined in the module it
imports, so the examples of methods (defined in the private modules but
published under ``skvae``) are run here.
"""

import doctest
import warnings

import pytest

import skvae


def _public_classes():
    classes = [skvae.VAETransformer, skvae.VAEOutlierDetector]
    try:
        classes.append(skvae.PyODVAEDetector)
    except ImportError:  # PyOD not installed
        pass
    return classes


# Public functions whose examples need optional packages, and those packages.
_FUNCTIONS = {
    skvae.export_onnx: ("onnx", "onnxruntime"),
    skvae.register_onnx_converters: ("onnx", "skl2onnx"),
}


def _examples():
    """Every docstring example, as a list: pytest deprecates generators here."""
    finder = doctest.DocTestFinder()
    return [
        pytest.param(test, _FUNCTIONS.get(public, ()), id=test.name)
        for public in [*_public_classes(), *_FUNCTIONS]
        for test in finder.find(public, module=False)
        if test.examples
    ]


@pytest.mark.parametrize("test, needs", _examples())
def test_docstring_example_runs(test, needs):
    for module in needs:
        pytest.importorskip(module)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    with warnings.catch_warnings():
        # The examples train for a few epochs; saying so is expected.
        warnings.simplefilter("ignore")
        result = runner.run(test, out=lambda text: print(text, end=""))
    assert result.failed == 0, f"{result.failed} example(s) of {test.name} failed"


def test_every_public_name_has_an_example():
    for name in skvae.__all__:
        if name != "__version__":
            assert ">>>" in getattr(skvae, name).__doc__, name
    for public_class in _public_classes():
        assert ">>>" in public_class.__doc__, public_class.__name__
