"""Erasing a region of an image by filling it from its surroundings (normalised convolution).

Used by attention mining (erase what the model attends to) and by the counterfactual loss
(erase the true defect). The fill must not look like a defect itself: filling with zero would
paint a dark hole, which is exactly what a void looks like on CT.

Construction, for an image ``I`` and a soft mask ``m`` in ``[0, 1]`` (1 = remove):

    known  = 1 - m
    fill   = box_k(I * known) / box_k(known)        (mean of the known pixels in a k x k window)
    fill   = global mean of the known pixels        where box_k(known) < min_support
    result = I * (1 - m) + fill * m

``box_k`` is a ``k x k`` mean filter with zero padding. Everything is differentiable in
``I`` and ``m``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def inpaint(
    image: torch.Tensor, mask: torch.Tensor, kernel_size: int = 11, min_support: float = 0.05
) -> torch.Tensor:
    """Replace the masked region of ``image`` by the local mean of the unmasked pixels around it.

    Args:
        image: ``[B, C, H, W]``.
        mask: ``[B, 1, H, W]`` in ``[0, 1]``; 1 marks pixels to remove.
        kernel_size: Odd window ``k`` of the local mean.
        min_support: Where less than this share of the window is known, use the image mean
            of the known pixels instead.

    Returns:
        The inpainted image, same shape as ``image``.
    """
    known = 1.0 - mask
    pad = kernel_size // 2
    num = F.avg_pool2d(image * known, kernel_size, stride=1, padding=pad, count_include_pad=True)
    den = F.avg_pool2d(known, kernel_size, stride=1, padding=pad, count_include_pad=True)
    local = num / den.clamp(min=min_support)
    global_mean = (image * known).flatten(2).sum(-1) / known.flatten(2).sum(-1).clamp(min=1.0)
    fill = torch.where(den >= min_support, local, global_mean[..., None, None].expand_as(image))
    return image * known + fill * mask


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Grow a binary mask ``[B, 1, H, W]`` by ``radius`` pixels (square structuring element)."""
    if radius <= 0:
        return mask
    return F.max_pool2d(mask, 2 * radius + 1, stride=1, padding=radius)
