"""GroundingDINO (transformers' ``AutoModelForZeroShotObjectDetection``) from a local folder.

Text prompts are the CT / RGB lists of seed 002 §5; detections above the box and text
thresholds are kept, suppressed with NMS and mapped to our defect types by the base class.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from models.vlg.base import Availability, Detection, VLGBackend
from models.vlg.registry import register_vlg
from models.vlm.base import weights_dir

log = logging.getLogger(__name__)

DEFAULT_FOLDER = "grounding-dino-tiny"
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def load_grounding_dino(folder: str, device: str = "cpu") -> tuple[Any, Any]:
    """Load ``(processor, model)`` from a local folder once (never touches the hub)."""
    from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

    log.info("loading GroundingDINO from %s", folder)
    processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
    model = AutoModelForZeroShotObjectDetection.from_pretrained(folder, local_files_only=True)
    model.to(device).eval()
    return processor, model


@register_vlg("grounding_dino")
class GroundingDINO(VLGBackend):
    """Open-vocabulary detector GroundingDINO (Swin-T + BERT), the adopted VLG of seed 002 §5-1.

    Args:
        model_dir: Folder with the saved model; default ``$MODELS_DIR/grounding-dino-tiny``.
        text_threshold: Minimum token score for a phrase to name a box.
        device: Torch device for inference.
        **kwargs: :class:`VLGBackend` settings (``prompts``, ``box_threshold``, ``nms_iou``, ...).
    """

    label = "GroundingDINO (Swin-T)"

    def __init__(
        self, model_dir: str | None = None, text_threshold: float = 0.25, device: str = "cpu", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.model_dir = weights_dir(model_dir, DEFAULT_FOLDER)
        self.text_threshold = float(text_threshold)
        self.device = device

    def _check_availability(self) -> Availability:
        if importlib.util.find_spec("transformers") is None:
            return Availability(False, "the transformers package is not installed")
        folder = Path(self.model_dir)
        if not ((folder / "config.json").is_file() and any(folder.glob("*.safetensors"))):
            return Availability(False, f"no GroundingDINO weights in {folder}")
        return Availability(True)

    def _predict(self, image: np.ndarray, prompts: list[str]) -> list[Detection]:
        import torch
        from PIL import Image

        processor, model = load_grounding_dino(str(self.model_dir), self.device)
        height, width = image.shape[:2]
        inputs = processor(images=Image.fromarray(image), text=[list(prompts)], return_tensors="pt")
        inputs = inputs.to(model.device)
        with _LOCK, torch.inference_mode():
            outputs = model(**inputs)
        result = processor.post_process_grounded_object_detection(
            outputs,
            input_ids=inputs["input_ids"],
            threshold=self.box_threshold,
            text_threshold=self.text_threshold,
            target_sizes=[(height, width)],
        )[0]
        return [
            Detection(label=str(text) or "defect", score=float(score), xyxy=[float(v) for v in box])
            for score, box, text in zip(result["scores"], result["boxes"], result["text_labels"])
        ]
