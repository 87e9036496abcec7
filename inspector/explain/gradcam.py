"""Grad-CAM (Selvaraju et al., 2017): channels weighted by their spatially averaged gradient."""

import torch

from inspector.explain.base import CAMExplainer, register_explainer


@register_explainer("gradcam")
class GradCAM(CAMExplainer):
    """Grad-CAM: ``w_c = mean_ij dy/dA_cij``."""

    def weights(self, activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
        return gradients.mean(dim=(2, 3), keepdim=True)
