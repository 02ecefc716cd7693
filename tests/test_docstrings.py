"""The examples in the public classes' docstrings, methods included, run.

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


def _examples():
    finder = doctest.DocTestFinder()
    for public_class in _public_classes():
        for test in finder.find(public_class, module=False):
            if test.examples:
                yield pytest.param(test, id=test.name)


@pytest.mark.parametrize("test", _examples())
def test_docstring_example_runs(test):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    with warnings.catch_warnings():
        # The examples train for a few epochs; saying so is expected.
        warnings.simplefilter("ignore")
        result = runner.run(test, out=lambda text: print(text, end=""))
    assert result.failed == 0, f"{result.failed} example(s) of {test.name} failed"


def test_every_public_class_has_an_example():
    for public_class in _public_classes():
        assert ">>>" in public_class.__doc__, public_class.__name__
