"""Autoregressive models: p(x) = prod_i p(x_i | x_<i) over pixels in raster order, an exact likelihood.

masks.py holds the shared causal masks and gates, sampling.py the samplers every autoregressive kind uses
(naive, fast, completion), receptive_field.py the measured context of a conditional; each model file registers
its kind. Importing this package imports every model file in it.
"""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
