"""YOLO-World (ultralytics, YOLOv8s + CLIP) from local weights, kept for comparison (seed 002 §5-1).

The detector is built from ultralytics' packaged YAML and its weights are read from a
safetensors file (never a pickled ``.pt``). YOLO-World scores boxes against CLIP text
embeddings of the prompts; those come from a local transformers CLIP folder (ultralytics
would otherwise download OpenAI CLIP), so both must be present.

To convert the official ``yolov8s-worldv2.pt`` once, on a machine you trust::

    from ultralytics import YOLOWorld; from safetensors.torch import save_file
    m = YOLOWorld("yolov8s-worldv2.pt").model
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, "yolov8s-worldv2.safetensors")
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import CheckpointError
from models.vlg.base import Availability, Detection, VLGBackend
from models.vlg.registry import register_vlg
from models.vlm.base import models_dir

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS = "yolo-world/yolov8s-worldv2.safetensors"
DEFAULT_CLIP = "clip-vit-base-patch32"
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def load_yolo_world(weights: str, arch: str) -> Any:
    """Build YOLO-World from the packaged YAML ``arch`` and load safetensors ``weights``."""
    from safetensors.torch import load_file
    from ultralytics import YOLOWorld

    log.info("loading YOLO-World %s from %s", arch, weights)
    model = YOLOWorld(arch)
    state = load_file(weights)
    result = model.model.load_state_dict(state, strict=False)
    if result.missing_keys:
        raise CheckpointError(
            f"{weights} does not match {arch} ({len(result.missing_keys)} missing tensors, "
            f"e.g. {result.missing_keys[0]})"
        )
    model.model.eval()
    return model


@functools.lru_cache(maxsize=1)
def load_clip_text(folder: str) -> tuple[Any, Any]:
    """Load ``(tokenizer, CLIPTextModelWithProjection)`` from a local CLIP folder once."""
    from transformers import AutoTokenizer, CLIPTextModelWithProjection

    log.info("loading CLIP text encoder from %s", folder)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = CLIPTextModelWithProjection.from_pretrained(folder, local_files_only=True)
    model.eval()
    return tokenizer, model


def _has_transformers_weights(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


@register_vlg("yolo_world")
class YOLOWorldVLG(VLGBackend):
    """YOLO-World open-vocabulary detector (fast, but fails on battery defects per seed 002 §5-1).

    Args:
        weights: Safetensors file; default ``$MODELS_DIR/yolo-world/yolov8s-worldv2.safetensors``.
        arch: Ultralytics YAML the weights belong to.
        clip_dir: Transformers CLIP folder for the text embeddings; default
            ``$MODELS_DIR/clip-vit-base-patch32``.
        imgsz: Inference size.
        device: Torch device for inference.
        **kwargs: :class:`VLGBackend` settings (``prompts``, ``box_threshold``, ``nms_iou``, ...).
    """

    default_verdict_threshold = 0.25  # open-vocabulary scores run low
    label = "YOLO-World (YOLOv8s)"

    def __init__(
        self,
        weights: str | None = None,
        arch: str = "yolov8s-worldv2.yaml",
        clip_dir: str | None = None,
        imgsz: int = 640,
        device: str = "cpu",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("box_threshold", 0.05)  # YOLO-World scores run low on open vocabulary
        super().__init__(**kwargs)
        self.weights = Path(weights) if weights else models_dir() / DEFAULT_WEIGHTS
        self.arch = arch
        self.clip_dir = Path(clip_dir) if clip_dir else models_dir() / DEFAULT_CLIP
        self.imgsz = int(imgsz)
        self.device = device
        self._classes: tuple[str, ...] | None = None

    def _check_availability(self) -> Availability:
        if importlib.util.find_spec("ultralytics") is None:
            return Availability(False, "the ultralytics package is not installed")
        if not self.weights.is_file():
            return Availability(False, f"no YOLO-World weights at {self.weights}")
        if not _has_transformers_weights(self.clip_dir):
            return Availability(
                False, f"no CLIP weights in {self.clip_dir} (YOLO-World needs them for its text prompts)"
            )
        return Availability(True)

    def text_features(self, prompts: list[str]) -> Any:
        """L2-normalised CLIP text embeddings of ``prompts``, shaped ``[1, n, d]``."""
        import torch

        tokenizer, clip = load_clip_text(str(self.clip_dir))
        tokens = tokenizer(list(prompts), padding=True, return_tensors="pt")
        with torch.inference_mode():
            feats = clip(**tokens).text_embeds
        feats = feats / feats.norm(p=2, dim=-1, keepdim=True)
        return feats.reshape(1, len(prompts), -1)

    def model(self, prompts: list[str]) -> Any:
        """The loaded detector with its classes set to ``prompts`` (what ``set_classes`` does,
        with the text embeddings from :meth:`text_features` instead of ultralytics' CLIP)."""
        model = load_yolo_world(str(self.weights), self.arch)
        if self._classes != tuple(prompts) or list(getattr(model.model, "names", [])) != list(prompts):
            feats = self.text_features(prompts)
            param = next(model.model.parameters())
            model.model.txt_feats = feats.to(device=param.device, dtype=param.dtype)
            model.model.model[-1].nc = len(prompts)
            model.model.names = list(prompts)
            model.predictor = None
            self._classes = tuple(prompts)
        return model

    def _predict(self, image: np.ndarray, prompts: list[str]) -> list[Detection]:
        with _LOCK:
            model = self.model(prompts)
            results = model.predict(
                np.ascontiguousarray(image[..., ::-1]),  # ultralytics takes BGR arrays
                conf=self.box_threshold,
                imgsz=self.imgsz,
                device=self.device,
                verbose=False,
            )
        boxes = results[0].boxes
        names = results[0].names
        return [
            Detection(label=str(names[int(c)]), score=float(s), xyxy=[float(v) for v in xyxy])
            for xyxy, s, c in zip(boxes.xyxy.tolist(), boxes.conf.tolist(), boxes.cls.tolist())
        ]
