"""Diffusion and flow models: turn pure noise into an image in many small steps, each taken by one network.

denoiser.py holds the network every kind here shares (a small U-Net from diffusers); each model file writes its
own training loss and sampling loop beside the equations they compute, and registers its kind. Importing this
package imports every model file in it.
"""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
