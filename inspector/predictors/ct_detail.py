"""The CT detail pass: look at large slices at (near) native resolution so small voids survive.

The classifier sees the battery crop resized to its input side (192 px for the shipped model). For
a 256 px slice that is a mild downscale, but a 1024 px slice of a battery that fills the frame is
shrunk ~5x and a void of 3 px diameter vanishes. When the crop is more than ``max_downscale``
times the input side, the detail pass resizes it so that it is shrunk by at most
``max_downscale``, cuts it into overlapping input-sized tiles, and classifies every tile in one
batch. The slice's battery type still comes from the whole view (a tile shows only part of the
battery); the tiles only add defect evidence.

The card switches it on with ``preprocessing.detail_pass: {max_downscale: 1.5, overlap: 0.25}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from core.errors import CheckpointError

__all__ = ["DetailPass", "Tile", "to_family"]


@dataclass(frozen=True)
class Tile:
    """One tile of the detail pass.

    Attributes:
        image: The tile, ``input x input`` float array.
        window: ``(x, y, w, h)`` of the tile in the pixels of the view it was cut from.
    """

    image: np.ndarray
    window: tuple[int, int, int, int]


@dataclass(frozen=True)
class DetailPass:
    """How large CT views are tiled.

    Args:
        max_downscale: Largest shrink factor of the view accepted without tiles (and the shrink
            applied before tiling).
        overlap: Share of a tile side shared with its neighbour.
        max_tiles: Upper bound on tiles per slice (the shrink grows instead, so memory and time
            stay bounded for any image size).
    """

    max_downscale: float = 1.5
    overlap: float = 0.25
    max_tiles: int = 49

    def __post_init__(self) -> None:
        if not (self.max_downscale >= 1.0 and math.isfinite(self.max_downscale)):
            raise CheckpointError(f"detail_pass.max_downscale must be >= 1, got {self.max_downscale}")
        if not 0.0 <= self.overlap < 0.9:
            raise CheckpointError(f"detail_pass.overlap must be in [0, 0.9), got {self.overlap}")
        if self.max_tiles < 1:
            raise CheckpointError(f"detail_pass.max_tiles must be >= 1, got {self.max_tiles}")

    @classmethod
    def from_card(cls, card: Mapping[str, Any]) -> DetailPass | None:
        """The card's ``preprocessing.detail_pass`` block, or ``None`` when it is absent or false.

        Raises:
            CheckpointError: The block has unknown keys or values out of range.
        """
        block = (card.get("preprocessing") or {}).get("detail_pass")
        if not block:
            return None
        if block is True:
            return cls()
        if not isinstance(block, Mapping):
            raise CheckpointError(f"preprocessing.detail_pass must be a mapping, got {block!r}")
        unknown = set(block) - {"max_downscale", "overlap", "max_tiles"}
        if unknown:
            raise CheckpointError(f"unknown preprocessing.detail_pass keys: {', '.join(sorted(unknown))}")
        return cls(**{k: type(getattr(cls, k))(v) for k, v in block.items()})

    def needed(self, view_shape: Sequence[int], input_size: int) -> bool:
        """Whether a view of this shape is shrunk by more than :attr:`max_downscale`."""
        return max(view_shape[:2]) > self.max_downscale * input_size

    def tiles(self, view: np.ndarray, input_size: int) -> list[Tile]:
        """Overlapping ``input_size`` tiles of ``view`` shrunk by at most ``max_downscale``.

        The tiles cover the whole view; their windows are in the view's own pixels.
        """
        h, w = view.shape[:2]
        scale = 1.0 / self.max_downscale  # shrink by at most max_downscale, never enlarge
        while True:
            th, tw = max(int(round(h * scale)), input_size), max(int(round(w * scale)), input_size)
            starts_y, starts_x = self._starts(th, input_size), self._starts(tw, input_size)
            if len(starts_y) * len(starts_x) <= self.max_tiles:
                break
            scale *= 0.9
        resized = cv2.resize(view.astype(np.float32), (tw, th), interpolation=cv2.INTER_AREA)
        fy, fx = h / th, w / tw
        out = []
        for y in starts_y:
            for x in starts_x:
                window = (
                    int(round(x * fx)),
                    int(round(y * fy)),
                    int(round(input_size * fx)),
                    int(round(input_size * fy)),
                )
                out.append(Tile(resized[y : y + input_size, x : x + input_size], window))
        return out

    def _starts(self, length: int, tile: int) -> list[int]:
        if length <= tile:
            return [0]
        stride = max(int(tile * (1.0 - self.overlap)), 1)
        count = math.ceil((length - tile) / stride) + 1
        return [min(i * stride, length - tile) for i in range(count)]


def to_family(probabilities: Mapping[str, float], family: str) -> dict[str, float]:
    """Move a tile's class probabilities onto one battery family's classes.

    A tile shows part of a battery, so its own cell/module call means little; its defect kinds
    do. ``module_porosity`` of a tile read as a cell becomes ``cell_porosity``; a defect kind the
    family has no class for goes to the family's first defect class.

    Args:
        probabilities: Class name -> probability (``cell_*`` / ``module_*`` names).
        family: ``cell`` or ``module`` (from the whole view).

    Returns:
        The same class names, with every probability on ``family``'s classes (sums are kept).
    """
    names = list(probabilities)
    own = [n for n in names if n.startswith(family + "_")]
    if not own:
        return dict(probabilities)
    defects = [n for n in own if not n.endswith("_normal")]
    out = {n: 0.0 for n in names}
    for name, p in probabilities.items():
        kind = name.split("_", 1)[1] if "_" in name else name
        target = f"{family}_{kind}"
        if target not in out:
            target = defects[0] if defects and kind != "normal" else f"{family}_normal"
        out[target] = out.get(target, 0.0) + float(p)
    return out
