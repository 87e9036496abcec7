"""LayerCAM (Jiang et al., 2021): every location weighted by its own positive gradient."""

import torch

from inspector.explain.base import CAMExplainer, register_explainer


@register_explainer("layercam")
class LayerCAM(CAMExplainer):
    """LayerCAM: ``w_cij = relu(dy/dA_cij)`` (sharper maps from shallower layers)."""

    def weights(self, activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
        return gradients.clamp_min(0)
