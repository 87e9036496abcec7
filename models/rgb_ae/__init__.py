"""RGB anomaly autoencoders, created by name: ``create_model("conv_ae")``.

Each variant module in this package registers its factory with ``@register_model("name")``; the
registry discovers the modules on the first lookup, so a new detector is one new file.
"""

from models.rgb_ae.autoencoder import ConvAutoEncoder
from models.rgb_ae.draem import DRAEM
from models.rgb_ae.registry import RGB_MODELS, create_model, list_models, register_model

__all__ = ["DRAEM", "RGB_MODELS", "ConvAutoEncoder", "create_model", "list_models", "register_model"]
