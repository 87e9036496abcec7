"""Paired image + mask transforms, the CT augmentation policy and the battery-outline crop.

Every transform is a callable ``(image, mask) -> (image, mask)`` on numpy arrays (image
``float32`` ``[H, W]`` or ``[H, W, 3]`` in ``[0, 1]``, mask ``float32`` ``[H, W]`` in {0, 1}), so
geometric transforms move the mask with the image. Randomness comes from ``torch`` so that
DataLoader workers get distinct, seedable streams.

Transforms are registered by name and built from config lists such as
``[{"name": "flip"}, {"name": "affine", "degrees": 30}]`` with :func:`build_transforms`.
Seed 003 section 5: CT brightness is material density and defects are fine, so colour jitter
and blur are refused for CT (a :class:`~core.errors.ConfigError`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import torch

from core.errors import ConfigError
from core.preprocessing.ct_crop import OutlineCrop, border_value
from core.registry import Registry

Pair = tuple[np.ndarray, np.ndarray]
#: Transforms by name (all defined in this module; plug-in packages may add more).
TRANSFORMS: Registry[type[PairTransform]] = Registry(
    "transform", "training.transforms", unknown="unknown {kind} {name!r}; available: {known}"
)
CT_FORBIDDEN = frozenset({"color_jitter", "blur"})


def register_transform(
    name: str, *, priority: int = 0
) -> Callable[[type[PairTransform]], type[PairTransform]]:
    """Class decorator: make a transform buildable by ``name`` from a config (sets ``cls.name``)."""
    return TRANSFORMS.register(name, priority=priority)


def _rand() -> float:
    return float(torch.rand(()))


def _uniform(lo: float, hi: float) -> float:
    return lo + (hi - lo) * _rand()


class PairTransform:
    """Base class: a transform of an ``(image, mask)`` pair applied with probability ``p``."""

    name = ""

    def __init__(self, p: float = 1.0) -> None:
        self.p = p

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        if self.p < 1.0 and _rand() >= self.p:
            return image, mask
        return self.apply(image, mask)

    def apply(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        """Transform the pair (always)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Compose:
    """Apply transforms in order."""

    def __init__(self, transforms: Sequence[Callable[[np.ndarray, np.ndarray], Pair]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        for t in self.transforms:
            image, mask = t(image, mask)
        return image, mask

    def __repr__(self) -> str:
        return "Compose(" + ", ".join(map(repr, self.transforms)) + ")"


@register_transform("resize")
class Resize(PairTransform):
    """Resize to ``size`` x ``size`` (area for the image; mask kept where >= 25 % covered).

    The low mask threshold keeps voids of a few pixels when downsampling.
    """

    def __init__(self, size: int, p: float = 1.0) -> None:
        super().__init__(p)
        self.size = int(size)

    def apply(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        if image.shape[0] == self.size and image.shape[1] == self.size:
            return image, mask
        shrink = image.shape[0] > self.size
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        image = cv2.resize(image, (self.size, self.size), interpolation=interp)
        mask = cv2.resize(mask.astype(np.float32), (self.size, self.size), interpolation=interp)
        return image, (mask >= (0.25 if shrink else 0.5)).astype(np.float32)


@register_transform("flip")
class RandomFlip(PairTransform):
    """Horizontal and/or vertical flips, each with probability ``p_h`` / ``p_v``."""

    def __init__(self, p_h: float = 0.5, p_v: float = 0.5, p: float = 1.0) -> None:
        super().__init__(p)
        self.p_h, self.p_v = p_h, p_v

    def apply(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        if _rand() < self.p_h:
            image, mask = image[:, ::-1], mask[:, ::-1]
        if _rand() < self.p_v:
            image, mask = image[::-1], mask[::-1]
        return np.ascontiguousarray(image), np.ascontiguousarray(mask)


@register_transform("affine")
class RandomAffine(PairTransform):
    """Rotation, translation and scale in one warp; the mask uses nearest-neighbour sampling.

    Args:
        degrees: Maximum absolute rotation.
        translate: Maximum shift as a fraction of the side.
        scale: ``(min, max)`` zoom.
        fill: Value of pixels that enter the frame; ``None`` uses the median of the image
            border (the air or background around the battery), so no artificial edge appears.
        p: Probability.
    """

    def __init__(
        self,
        degrees: float = 30.0,
        translate: float = 0.1,
        scale: Sequence[float] = (0.9, 1.1),
        fill: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p)
        self.degrees, self.translate, self.scale, self.fill = degrees, translate, tuple(scale), fill

    def apply(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        h, w = image.shape[:2]
        m = cv2.getRotationMatrix2D(
            (w / 2, h / 2), _uniform(-self.degrees, self.degrees), _uniform(*self.scale)
        )
        m[:, 2] += (
            _uniform(-self.translate, self.translate) * w,
            _uniform(-self.translate, self.translate) * h,
        )
        value = border_value(image) if self.fill is None else self.fill
        fill = (float(value),) * (3 if image.ndim == 3 else 1)
        image = cv2.warpAffine(
            image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill
        )
        mask = cv2.warpAffine(
            mask, m, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        return image, mask


@register_transform("rotate")
class RandomRotate(RandomAffine):
    """Rotation only (``RandomAffine`` without shift or zoom)."""

    def __init__(self, degrees: float = 30.0, fill: float | None = None, p: float = 1.0) -> None:
        super().__init__(degrees=degrees, translate=0.0, scale=(1.0, 1.0), fill=fill, p=p)


@register_transform("color_jitter")
class ColorJitter(PairTransform):
    """Brightness/contrast jitter (RGB only; CT intensity is density)."""

    def __init__(self, brightness: float = 0.2, contrast: float = 0.2, p: float = 1.0) -> None:
        super().__init__(p)
        self.brightness, self.contrast = brightness, contrast

    def apply(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        mean = image.mean()
        image = (image - mean) * _uniform(1 - self.contrast, 1 + self.contrast) + mean
        image = image * _uniform(1 - self.brightness, 1 + self.brightness)
        return np.clip(image, 0.0, 1.0).astype(np.float32), mask


@register_transform("blur")
class GaussianBlur(PairTransform):
    """Gaussian blur with a random sigma (RGB only; it would erase fine CT defects)."""

    def __init__(self, sigma: Sequence[float] = (0.1, 1.0), p: float = 0.3) -> None:
        super().__init__(p)
        self.sigma = tuple(sigma)

    def apply(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        return cv2.GaussianBlur(image, (0, 0), _uniform(*self.sigma)), mask


@register_transform("outline_crop")
class BatteryOutlineCrop(PairTransform):
    """Crop to the battery outline (seed 003 "1st preprocessing"), dropping frames and stamps.

    The crop itself is :class:`core.preprocessing.OutlineCrop`, the one the inspector uses, so a
    model sees the same view in training and in use.
    """

    def __init__(self, margin: float = 0.04, p: float = 1.0) -> None:
        super().__init__(p)
        self.outline = OutlineCrop(margin)

    @property
    def margin(self) -> float:
        """Fraction of the box side kept around the outline."""
        return self.outline.margin

    def crop(self, image: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int]]:
        """The training crop of one image and its ``(x0, y0, side)`` window."""
        return self.outline.crop(image)

    def apply(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        return self.outline.crop_pair(image, mask)


@register_transform("normalize")
class Normalize(PairTransform):
    """``(image - mean) / std`` per channel (use the values stored in the checkpoint card)."""

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float, p: float = 1.0) -> None:
        super().__init__(p)
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)

    def apply(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        return ((image - self.mean) / self.std).astype(np.float32), mask


def build_transforms(specs: Sequence[dict] | None, modality: str) -> Compose:
    """Build a :class:`Compose` from config entries ``{"name": ..., **kwargs}``.

    Args:
        specs: Transform entries in order (``None`` or empty for identity).
        modality: ``ct`` or ``rgb``; CT refuses colour jitter and blur (seed 003 section 5).

    Returns:
        The composed transform.

    Raises:
        ConfigError: Unknown transform name, bad arguments, or a forbidden CT transform.
    """
    out = []
    for spec in specs or []:
        spec = dict(spec)
        name = spec.pop("name", None)
        if name not in TRANSFORMS:
            raise TRANSFORMS.unknown_error(name)
        if modality == "ct" and name in CT_FORBIDDEN:
            raise ConfigError(
                f"transform {name!r} is not allowed for CT (intensity is density; fine defects blur away)"
            )
        try:
            out.append(TRANSFORMS[name](**spec))
        except TypeError as exc:
            raise ConfigError(f"bad arguments for transform {name!r}: {exc}") from exc
    return Compose(out)


def default_transforms(
    modality: str, size: int, train: bool, crop: bool = False, geometric: bool = True
) -> Compose:
    """The project's default pipeline.

    Args:
        modality: ``ct`` or ``rgb``.
        size: Output side in pixels.
        train: Add augmentation.
        crop: Start with the battery-outline crop.
        geometric: Allow flips/rotation/affine when training (``False`` for metadata models
            that rely on position, as in seed 003 section 5.2).

    Returns:
        The composed transform.
    """
    specs: list[dict] = [{"name": "outline_crop"}] if crop else []
    specs.append({"name": "resize", "size": size})
    if train and geometric:
        specs += [
            {"name": "flip"},
            {"name": "affine", "degrees": 30, "translate": 0.1, "scale": (0.9, 1.1), "p": 0.8},
        ]
    if train and modality == "rgb":
        specs += [
            {"name": "color_jitter", "brightness": 0.2, "contrast": 0.2, "p": 0.8},
            {"name": "blur", "p": 0.2},
        ]
    return build_transforms(specs, modality)
