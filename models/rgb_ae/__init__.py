"""RGB anomaly autoencoders, created by name: ``create_model("conv_ae")``.

Importing this package imports every variant module so that each registers itself.
"""

from models.rgb_ae import autoencoder, draem  # noqa: F401  (registers the variants)
from models.rgb_ae.autoencoder import ConvAutoEncoder
from models.rgb_ae.draem import DRAEM
from models.rgb_ae.registry import create_model, list_models, register_model

__all__ = ["DRAEM", "ConvAutoEncoder", "create_model", "list_models", "register_model"]
