"""Synthetic corruptions of *normal* images: the only supervision of the anomaly models.

A plain autoencoder trained on normals also learns to copy what it has never seen, so a defect
can come back reconstructed and score low. Training it to map a corrupted normal image back to
the clean one (the target is always the untouched normal image) teaches it to *remove*
anything that does not look normal, and the DRAEM head learns to *segment* what was drawn. No
defect image is ever used: the corruptions are generic shapes from a random generator -- soft
textured blobs (stains), thin bent strokes (scratches), shaded pits (dents) and patches of the
photo pasted elsewhere (any texture that does not belong). They are drawn inside an optional
``region`` (the battery box), where real defects are, so the model does not spend its capacity
on the background.

Each corruption is registered by name and works on one ``[3, H, W]`` tensor in ``[0, 1]``; it
returns the corrupted image and the per-pixel strength ``[H, W]`` of what it drew::

    corrupted, mask = corrupt_batch(images, CorruptionConfig(p=0.5), regions=boxes)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from core.registry import Registry

__all__ = ["CORRUPTIONS", "MASK_LEVEL", "CorruptionConfig", "corrupt_batch", "register_corruption"]

Corruption = Callable[
    [torch.Tensor, torch.Tensor | None, torch.Generator | None], tuple[torch.Tensor, torch.Tensor]
]
#: Corruptions by name. A new one is a ``@register_corruption("name")`` function here or in a new
#: module of :mod:`training.anomaly` (discovered on the first lookup).
CORRUPTIONS: Registry[Corruption] = Registry("corruption", "training.anomaly", attribute=None)


def register_corruption(name: str, *, priority: int = 0) -> Callable[[Corruption], Corruption]:
    """Register ``fn(image[3, H, W], region[H, W] | None, generator) -> (image, strength[H, W])``."""
    return CORRUPTIONS.register(name, priority=priority)


@dataclass
class CorruptionConfig:
    """Which corruptions to draw during training.

    Attributes:
        p: Probability that a training image is corrupted (0 disables: a plain autoencoder).
        max_count: A corrupted image receives between 1 and this many corruptions.
        kinds: Names from :data:`CORRUPTIONS`, drawn uniformly.
        weight: Extra loss weight of corrupted pixels (they are a few percent of an image; without
            it, learning to remove them is slow); also the BCE ``pos_weight`` of the DRAEM head.
        dice: Weight of a soft-Dice term on the DRAEM head's map (0: BCE only). Dice is
            indifferent to how few pixels a scratch has, which BCE is not.
    """

    p: float = 0.0
    max_count: int = 2
    kinds: list[str] = field(default_factory=lambda: ["blob", "line", "spot"])
    weight: float = 10.0
    dice: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"corrupt.p must be in [0, 1], got {self.p}")
        if self.weight < 0 or self.dice < 0:
            raise ValueError(
                f"corrupt.weight and corrupt.dice must not be negative, got {self.weight}, {self.dice}"
            )
        if self.max_count < 1:
            raise ValueError(f"corrupt.max_count must be at least 1, got {self.max_count}")
        unknown = sorted(kind for kind in set(self.kinds) if kind not in CORRUPTIONS)
        if unknown or not self.kinds:
            raise ValueError(
                f"corrupt.kinds must name corruptions from {', '.join(CORRUPTIONS.names())}, got {self.kinds}"
            )


#: A pixel counts as corrupted (for the mask the head learns) where a corruption's strength exceeds this.
MASK_LEVEL = 0.15


def _rand(lo: float, hi: float, generator: torch.Generator | None) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=generator))


def _grid(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    h, w = image.shape[-2:]
    ys = torch.arange(h, dtype=image.dtype, device=image.device).view(-1, 1).expand(h, w)
    xs = torch.arange(w, dtype=image.dtype, device=image.device).view(1, -1).expand(h, w)
    return ys, xs


def _centre(image: torch.Tensor, region: torch.Tensor | None, generator: torch.Generator | None):
    """A random point inside ``region`` (any pixel > 0), else inside the central 80 % of the image."""
    h, w = image.shape[-2:]
    if region is not None:
        ys, xs = torch.nonzero(region > 0, as_tuple=True)
        if ys.numel():
            i = int(torch.randint(ys.numel(), (), generator=generator))
            return float(ys[i]) + _rand(-0.5, 0.5, generator), float(xs[i]) + _rand(-0.5, 0.5, generator)
    return _rand(0.1, 0.9, generator) * h, _rand(0.1, 0.9, generator) * w


def _ellipse(image, region, generator, radius: tuple[float, float]):
    """Normalised elliptical coordinates around a random centre: returns ``(u, v, r)`` maps."""
    side = min(image.shape[-2:])
    ys, xs = _grid(image)
    cy, cx = _centre(image, region, generator)
    ry = _rand(*radius, generator) * side
    rx = ry * _rand(0.5, 1.6, generator)
    angle = _rand(0.0, math.pi, generator)
    cos, sin = math.cos(angle), math.sin(angle)
    u = ((xs - cx) * cos + (ys - cy) * sin) / max(rx, 0.5)
    v = (-(xs - cx) * sin + (ys - cy) * cos) / max(ry, 0.5)
    return u, v, torch.sqrt(u**2 + v**2)


def _blend(image: torch.Tensor, colour: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    return image * (1 - alpha) + colour.view(-1, 1, 1) * alpha


def _noise(image: torch.Tensor, sigma: float, generator: torch.Generator | None) -> torch.Tensor:
    """Smooth random texture in about ``[-1, 1]``: white noise low-passed at ``sigma`` px."""
    h, w = image.shape[-2:]
    coarse = max(2, int(min(h, w) / max(sigma, 1.0)))
    grid = torch.rand(1, 1, coarse, coarse, generator=generator, dtype=image.dtype) * 2 - 1
    return torch.nn.functional.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)[0, 0].to(
        image.device
    )


@register_corruption("blob")
def blob(image: torch.Tensor, region: torch.Tensor | None = None, generator: torch.Generator | None = None):
    """A stain: an irregular, unevenly transparent blob of a random colour."""
    u, v, r = _ellipse(image, region, generator, (0.02, 0.1))
    theta = torch.atan2(v, u)
    wobble = sum(
        _rand(0.0, 0.3, generator) * torch.cos(k * theta + _rand(0, 2 * math.pi, generator))
        for k in (2, 3, 5, 7)
    )
    edge = _rand(0.03, 0.25, generator)
    shape = torch.sigmoid((1.0 + wobble - r) / edge)
    density = _rand(0.4, 0.95, generator) + 0.3 * _noise(image, _rand(1.0, 4.0, generator), generator)
    alpha = (shape * density).clamp(0, 1)
    colour = torch.rand(3, generator=generator, dtype=image.dtype).to(image.device) * _rand(
        0.2, 1.0, generator
    )
    return _blend(image, colour, alpha), alpha


@register_corruption("line")
def line(image: torch.Tensor, region: torch.Tensor | None = None, generator: torch.Generator | None = None):
    """A scratch: a thin stroke of 2-4 slightly bent segments, bright, dark or coloured."""
    side = min(image.shape[-2:])
    ys, xs = _grid(image)
    points = [_centre(image, region, generator)]
    length = _rand(0.05, 0.35, generator) * side
    angle = _rand(0, 2 * math.pi, generator)
    segments = int(torch.randint(2, 5, (), generator=generator))
    for _ in range(segments):
        angle += _rand(-0.7, 0.7, generator)
        y, x = points[-1]
        points.append((y + math.sin(angle) * length / segments, x + math.cos(angle) * length / segments))
    dist = torch.full_like(xs, float("inf"))
    for (ay, ax), (by, bx) in zip(points, points[1:]):
        dy, dx = by - ay, bx - ax
        t = (((ys - ay) * dy + (xs - ax) * dx) / max(dy * dy + dx * dx, 1e-6)).clamp(0, 1)
        dist = torch.minimum(dist, torch.sqrt((ys - ay - t * dy) ** 2 + (xs - ax - t * dx) ** 2))
    width = _rand(0.3, 1.6, generator) * max(side / 128, 0.5)
    alpha = (1 - dist / (width + 0.5)).clamp(0, 1) * _rand(0.5, 1.0, generator)
    pick = _rand(0, 1, generator)
    if pick < 0.4:
        colour = torch.full((3,), _rand(0.8, 1.0, generator), dtype=image.dtype)
    elif pick < 0.8:
        colour = torch.full((3,), _rand(0.0, 0.25, generator), dtype=image.dtype)
    else:
        colour = torch.rand(3, generator=generator, dtype=image.dtype)
    return _blend(image, colour.to(image.device), alpha), alpha


@register_corruption("spot")
def spot(image: torch.Tensor, region: torch.Tensor | None = None, generator: torch.Generator | None = None):
    """A dent: a small pit, darkened, lit on one side and in shadow on the other."""
    u, v, r = _ellipse(image, region, generator, (0.015, 0.06))
    inside = torch.sigmoid((1.0 - r) / 0.1)
    light = _rand(0, 2 * math.pi, generator)
    shade = (u * math.cos(light) + v * math.sin(light)).clamp(-1, 1) * _rand(0.15, 0.5, generator)
    darken = _rand(0.1, 0.6, generator)
    out = (image * (1 - darken * inside) + (shade * inside).unsqueeze(0)).clamp(0, 1)
    return out, inside


@register_corruption("patch")
def patch(image: torch.Tensor, region: torch.Tensor | None = None, generator: torch.Generator | None = None):
    """A foreign texture: an elliptical patch showing another, flipped part of the same photo."""
    h, w = image.shape[-2:]
    u, v, r = _ellipse(image, region, generator, (0.03, 0.1))
    alpha = torch.sigmoid((1.0 - r) / 0.08)
    shifts = (int(torch.randint(h // 4, 3 * h // 4 + 1, (), generator=generator)),
              int(torch.randint(w // 4, 3 * w // 4 + 1, (), generator=generator)))  # fmt: skip
    source = torch.roll(image, shifts, dims=(-2, -1)).flip(-2)
    return image * (1 - alpha) + source * alpha, alpha


def corrupt_batch(
    images: torch.Tensor,
    config: CorruptionConfig,
    generator: torch.Generator | None = None,
    regions: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt each image of ``[B, 3, H, W]`` with probability ``config.p``.

    Args:
        images: Clean normal images in ``[0, 1]`` (not modified).
        config: Probability, count and kinds of corruptions.
        generator: Optional torch generator (default: the global torch RNG, seeded by the Trainer).
        regions: Optional ``[B, 1, H, W]`` or ``[B, H, W]`` masks of where corruptions may be
            centred (the battery box); ``None`` allows the central 80 % of the image.

    Returns:
        ``(corrupted, mask)``: the corrupted batch (uncorrupted images copied unchanged) and the
        ``[B, 1, H, W]`` float mask of the pixels a corruption drew on (strength > ``MASK_LEVEL``).
    """
    out = images.clone()
    mask = torch.zeros(images.shape[0], 1, *images.shape[-2:], dtype=images.dtype, device=images.device)
    if config.p <= 0:
        return out, mask
    if regions is not None and regions.dim() == 4:
        regions = regions[:, 0]
    for i in range(out.shape[0]):
        if float(torch.rand((), generator=generator)) >= config.p:
            continue
        count = int(torch.randint(1, config.max_count + 1, (), generator=generator))
        region = regions[i] if regions is not None else None
        for _ in range(count):
            kind = config.kinds[int(torch.randint(len(config.kinds), (), generator=generator))]
            out[i], strength = CORRUPTIONS[kind](out[i], region, generator)
            mask[i, 0] = torch.maximum(mask[i, 0], (strength > MASK_LEVEL).to(mask.dtype))
    return out.clamp_(0.0, 1.0), mask
