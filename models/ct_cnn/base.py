"""Base class shared by the CT classifiers: the uniform ``model(image, meta=None)`` API."""

from __future__ import annotations

import torch
from torch import nn

from core.errors import InputError


class CTClassifier(nn.Module):
    """A CT slice classifier: ``forward(image, meta=None) -> logits``.

    Subclasses implement :meth:`forward_features` (image -> last feature map) and
    :meth:`forward_head` (feature map [+ meta] -> logits) and set :attr:`target_layer`. The base
    class checks the inputs and chains the two, like timm models.

    Attributes:
        num_classes: Number of logits.
        in_chans: Image channels expected (1 for CT).
        uses_meta: Whether ``meta`` ([battery_type, axis]) changes the output. Models that do not
            use it still accept it.
        default_input_size: Suggested square input size in pixels (a hint, any size >= 32 works).
    """

    uses_meta: bool = False
    default_input_size: int = 160
    meta_dim: int = 2

    def __init__(self, num_classes: int, in_chans: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.in_chans = in_chans

    @property
    def target_layer(self) -> nn.Module:
        """The module whose output map Grad-CAM should hook."""
        raise NotImplementedError

    def forward_features(self, image: torch.Tensor) -> torch.Tensor:
        """Image FloatTensor[B, in_chans, H, W] -> feature map FloatTensor[B, C, h, w]."""
        raise NotImplementedError

    def forward_head(self, features: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        """Feature map (and optional meta) -> logits FloatTensor[B, num_classes]."""
        raise NotImplementedError

    def check_inputs(self, image: torch.Tensor, meta: torch.Tensor | None) -> None:
        """Raise :class:`InputError` for inputs of the wrong shape.

        Raises:
            InputError: ``image`` is not [B, in_chans, H, W], or ``meta`` is given but is not
                [B, 2], or a meta-using model gets no ``meta``.
        """
        if image.ndim != 4 or image.shape[1] != self.in_chans:
            raise InputError(
                f"{type(self).__name__} expects images of shape [B, {self.in_chans}, H, W], "
                f"got {list(image.shape)}."
            )
        if meta is None:
            if self.uses_meta:
                raise InputError(
                    f"{type(self).__name__} needs meta = [battery_type, axis] for every image, got none."
                )
            return
        if meta.ndim != 2 or meta.shape != (image.shape[0], self.meta_dim):
            raise InputError(
                f"meta must have shape [{image.shape[0]}, {self.meta_dim}] ([battery_type, axis] per "
                f"image), got {list(meta.shape)}."
            )

    def forward(self, image: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        """Classify CT slices.

        Args:
            image: FloatTensor[B, in_chans, H, W], intensities normalised as in the checkpoint card.
            meta: Optional FloatTensor[B, 2] = [battery_type (cell=0, module=1), axis (x=0, y=1)].

        Returns:
            Logits FloatTensor[B, num_classes].
        """
        self.check_inputs(image, meta)
        return self.forward_head(self.forward_features(image), meta)
