"""Synthetic corruptions of *normal* images for denoising-autoencoder training.

A plain autoencoder trained on normals also learns to copy what it has never seen, so a defect
can come back reconstructed and score low. Training it to map a corrupted normal image back to
the clean one (the target is always the untouched normal image) teaches it to *remove*
anything that does not look normal, which is exactly what makes defects stand out in the error
map. No defect image is ever used: the corruptions are generic shapes drawn from a random
generator -- soft irregular blobs (stains), thin strokes (scratches) and shaded spots (dents).

Each corruption is registered by name and works on one ``[3, H, W]`` tensor in ``[0, 1]``::

    corrupt_batch(images, CorruptionConfig(p=0.5, kinds=["blob", "line", "spot"]))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

__all__ = ["CORRUPTIONS", "CorruptionConfig", "corrupt_batch", "corruption_mask", "register_corruption"]

Corruption = Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]
CORRUPTIONS: dict[str, Corruption] = {}


def register_corruption(name: str) -> Callable[[Corruption], Corruption]:
    """Register ``fn(image[3, H, W], generator) -> corrupted image`` under ``name``."""

    def decorator(fn: Corruption) -> Corruption:
        if name in CORRUPTIONS:
            raise ValueError(f"corruption {name!r} is registered twice")
        CORRUPTIONS[name] = fn
        return fn

    return decorator


@dataclass
class CorruptionConfig:
    """Which corruptions to draw during training.

    Attributes:
        p: Probability that a training image is corrupted (0 disables: a plain autoencoder).
        max_count: A corrupted image receives between 1 and this many corruptions.
        kinds: Names from :data:`CORRUPTIONS`, drawn uniformly.
        weight: Extra loss weight of corrupted pixels (they are a few percent of an image; without
            it, learning to remove them is slow).
    """

    p: float = 0.0
    max_count: int = 2
    kinds: list[str] = field(default_factory=lambda: ["blob", "line", "spot"])
    weight: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"corrupt.p must be in [0, 1], got {self.p}")
        if self.weight < 0:
            raise ValueError(f"corrupt.weight must not be negative, got {self.weight}")
        if self.max_count < 1:
            raise ValueError(f"corrupt.max_count must be at least 1, got {self.max_count}")
        unknown = sorted(set(self.kinds) - set(CORRUPTIONS))
        if unknown or not self.kinds:
            raise ValueError(
                f"corrupt.kinds must name corruptions from {', '.join(sorted(CORRUPTIONS))}, got {self.kinds}"
            )


def _rand(lo: float, hi: float, generator: torch.Generator | None) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=generator))


def _grid(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    h, w = image.shape[-2:]
    ys = torch.arange(h, dtype=image.dtype, device=image.device).view(-1, 1).expand(h, w)
    xs = torch.arange(w, dtype=image.dtype, device=image.device).view(1, -1).expand(h, w)
    return ys, xs


def _ellipse(image: torch.Tensor, generator: torch.Generator | None, radius: tuple[float, float]):
    """Normalised elliptical coordinates around a random centre: returns ``(u, v, r)`` maps."""
    h, w = image.shape[-2:]
    side = min(h, w)
    ys, xs = _grid(image)
    cy, cx = _rand(0.1, 0.9, generator) * h, _rand(0.1, 0.9, generator) * w
    ry = _rand(*radius, generator) * side
    rx = ry * _rand(0.5, 1.5, generator)
    angle = _rand(0.0, math.pi, generator)
    cos, sin = math.cos(angle), math.sin(angle)
    u = ((xs - cx) * cos + (ys - cy) * sin) / max(rx, 1.0)
    v = (-(xs - cx) * sin + (ys - cy) * cos) / max(ry, 1.0)
    return u, v, torch.sqrt(u**2 + v**2)


def _blend(image: torch.Tensor, colour: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    return image * (1 - alpha) + colour.view(-1, 1, 1) * alpha


@register_corruption("blob")
def blob(image: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A stain: an irregular soft-edged blob of a random colour, partly transparent."""
    u, v, r = _ellipse(image, generator, (0.03, 0.12))
    theta = torch.atan2(v, u)
    wobble = sum(
        _rand(0.0, 0.25, generator) * torch.cos(k * theta + _rand(0, 2 * math.pi, generator))
        for k in (2, 3, 5)
    )
    edge = _rand(0.05, 0.3, generator)
    mask = torch.sigmoid((1.0 + wobble - r) / edge)
    colour = torch.rand(3, generator=generator, dtype=image.dtype).to(image.device) * _rand(
        0.2, 1.0, generator
    )
    return _blend(image, colour, mask * _rand(0.5, 0.95, generator))


@register_corruption("line")
def line(image: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A scratch: a thin, slightly bent stroke, bright or dark."""
    h, w = image.shape[-2:]
    side = min(h, w)
    ys, xs = _grid(image)
    y0, x0 = _rand(0.1, 0.9, generator) * h, _rand(0.1, 0.9, generator) * w
    length = _rand(0.1, 0.4, generator) * side
    angle = _rand(0, 2 * math.pi, generator)
    bend = _rand(-0.5, 0.5, generator)
    points = [(y0, x0)]
    for i in range(2):  # two segments with a bend between them
        a = angle + bend * i
        y, x = points[-1]
        points.append((y + math.sin(a) * length / 2, x + math.cos(a) * length / 2))
    dist = torch.full_like(xs, float("inf"))
    for (ay, ax), (by, bx) in zip(points, points[1:]):
        dy, dx = by - ay, bx - ax
        t = (((ys - ay) * dy + (xs - ax) * dx) / max(dy * dy + dx * dx, 1e-6)).clamp(0, 1)
        dist = torch.minimum(dist, torch.sqrt((ys - ay - t * dy) ** 2 + (xs - ax - t * dx) ** 2))
    width = _rand(0.4, 1.2, generator) * max(side / 128, 0.5)
    mask = (1 - dist / (width + 0.5)).clamp(0, 1)
    level = _rand(0.85, 1.0, generator) if _rand(0, 1, generator) < 0.5 else _rand(0.0, 0.2, generator)
    colour = torch.full((3,), level, dtype=image.dtype, device=image.device)
    return _blend(image, colour, mask * _rand(0.6, 1.0, generator))


@register_corruption("spot")
def spot(image: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A dent: a small shaded disc, lit on one side and in shadow on the other."""
    u, v, r = _ellipse(image, generator, (0.02, 0.06))
    inside = torch.sigmoid((1.0 - r) / 0.1)
    light = _rand(0, 2 * math.pi, generator)
    shade = (u * math.cos(light) + v * math.sin(light)).clamp(-1, 1) * _rand(0.2, 0.5, generator)
    darken = _rand(0.0, 0.3, generator)
    return (image * (1 - darken * inside) + (shade * inside).unsqueeze(0)).clamp(0, 1)


def corrupt_batch(
    images: torch.Tensor, config: CorruptionConfig, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Corrupt each image of ``[B, 3, H, W]`` with probability ``config.p`` (returns a new tensor).

    Args:
        images: Clean normal images in ``[0, 1]``.
        config: Probability, count and kinds of corruptions.
        generator: Optional torch generator (default: the global torch RNG, seeded by the Trainer).

    Returns:
        The corrupted batch; uncorrupted images are copied unchanged.
    """
    out = images.clone()
    if config.p <= 0:
        return out
    for i in range(out.shape[0]):
        if float(torch.rand((), generator=generator)) >= config.p:
            continue
        count = int(torch.randint(1, config.max_count + 1, (), generator=generator))
        for _ in range(count):
            kind = config.kinds[int(torch.randint(len(config.kinds), (), generator=generator))]
            out[i] = CORRUPTIONS[kind](out[i], generator)
    return out.clamp_(0.0, 1.0)


def corruption_mask(
    clean: torch.Tensor, corrupted: torch.Tensor, tolerance: float = 1.0 / 255
) -> torch.Tensor:
    """``[B, 1, H, W]`` float mask of the pixels a corruption changed by more than ``tolerance``."""
    return ((corrupted - clean).abs().amax(dim=1, keepdim=True) > tolerance).to(clean.dtype)
