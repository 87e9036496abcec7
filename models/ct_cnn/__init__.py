"""CT slice classifiers, created by name: ``create_model("late_fusion", num_classes=5)``.

=====================  ===========================================================  ==========
name                   what                                                         parameters
=====================  ===========================================================  ==========
``resnet18``           ResNet-18, global pooling, dropout FC (seed "Basic CNN")     11.2 M
``late_fusion``        ResNet-18 512-d ++ raw [battery_type, axis] -> 514-256-128   11.3 M
``cbam``               ResNet-18 with CBAM after layer3 and layer4                  11.2 M
``drn_aspp``           dilated ResNet-18 (stride 16/8) + separable-conv ASPP        12.2 M
``hierarchical``       ResNet-18, coarse normal/defect head + fine head             11.4 M
``compact``            small VGG-style CNN, global max pool ++ meta (fast on CPU)  0.9 M
``compact_seg``        ``compact`` + stride-4 defect segmentation feeding the head  1.1 M
``timm:<name>``        any timm model, e.g. ``timm:convnext_tiny``                  timm's
=====================  ===========================================================  ==========

Every model is called as ``model(image, meta=None) -> logits`` with ``image`` FloatTensor[B, 1,
H, W] and ``meta`` FloatTensor[B, 2]. ``late_fusion`` and ``compact`` (unless built with
``use_meta=False``) need ``meta``; the others ignore it. ``model.uses_meta`` tells which.
``model.target_layer`` is the module Grad-CAM hooks. Weights start from scratch unless
``pretrained_path`` names a local ``.safetensors`` file.

To add a family, write one module in this package with a ``@register_model("name")`` factory;
the registry finds it on the first lookup (no import list to edit). ``python -m inspector list
ct_model`` shows every family with its one-line description.
"""

from models.ct_cnn.base import CTClassifier
from models.ct_cnn.registry import CT_MODELS, create_model, list_models, register_model

__all__ = ["CT_MODELS", "CTClassifier", "create_model", "list_models", "register_model"]
