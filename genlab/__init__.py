"""genlab: explore generative image models (VAE, DCGAN, PixelCNN) in the browser.

The backend lives here; nothing in this package imports streamlit except genlab/ui/.
"""
from pathlib import Path

__version__ = "0.1.0"

# The repository root: shipped checkpoints live in ROOT / "checkpoints".
ROOT = Path(__file__).resolve().parent.parent
