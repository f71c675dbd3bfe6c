"""Builds the compiled lot kernel of the tax engine's fast fold (the rest is pyproject.toml).

``pip install -e .`` builds it in place (next to its ``.pyx``); so does
``python setup.py build_ext --inplace`` (what ``make`` runs when the ``.pyx`` changed).
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("marginbook.tax.fast._lotkernel", ["src/marginbook/tax/fast/_lotkernel.pyx"])],
        language_level=3,
    ),
)
