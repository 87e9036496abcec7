"""Grad-CAM++ (Chattopadhay et al., 2018): pixel-weighted gradients, better for several objects."""

import torch

from inspector.explain.base import CAMExplainer, register_explainer


@register_explainer("gradcam_pp")
class GradCAMPlusPlus(CAMExplainer):
    """Grad-CAM++ with the usual exponential-score closed form of the alpha coefficients."""

    def weights(self, activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
        grads2, grads3 = gradients.pow(2), gradients.pow(3)
        denom = 2 * grads2 + activations.sum(dim=(2, 3), keepdim=True) * grads3
        alpha = grads2 / torch.where(denom != 0, denom, torch.ones_like(denom))
        return (alpha * gradients.clamp_min(0)).sum(dim=(2, 3), keepdim=True)
