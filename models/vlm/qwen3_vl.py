"""Qwen3-VL (2B / 4B / 8B Instruct) run locally with transformers, from a local folder.

Same prompt and answer schema as Gemini; the answer is free text, so it is parsed
tolerantly (JSON inside prose or code fences). Qwen3-VL answers boxes as
``[x1, y1, x2, y2]`` on a 0-1000 grid, converted to input pixels.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import threading
import time
from pathlib import Path
from typing import Any

from models.vlm.base import Availability, BackendError, FindingRequest, VLMBackend, weights_dir
from models.vlm.parsing import parse_answer
from models.vlm.prompts import BOX_XYXY_1000, SYSTEM_PROMPT, build_prompt, prompt_images
from models.vlm.registry import register_vlm

log = logging.getLogger(__name__)

DEFAULT_VARIANT = "Qwen3-VL-2B-Instruct"
_LOCK = threading.Lock()
#: How often a request waiting for the model looks at its cancel event, in seconds.
_POLL_S = 0.25


def acquire_model(lock: threading.Lock, timeout_s: float, request: FindingRequest) -> None:
    """Take the module-wide generation lock, giving up after ``timeout_s`` or on cancellation.

    Raises:
        BackendError: The model stayed busy for ``timeout_s`` or the request was cancelled.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if request.cancelled:
            raise BackendError("Qwen3-VL was cancelled while waiting for the model")
        left = deadline - time.monotonic()
        if left <= 0:
            raise BackendError(f"Qwen3-VL is busy with another inspection (waited {timeout_s:g} s)")
        if lock.acquire(timeout=min(_POLL_S, left)):
            return


def cancel_criteria(request: FindingRequest) -> Any:
    """A transformers ``StoppingCriteriaList`` that ends generation once ``request`` is cancelled."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Cancelled(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
            return request.cancelled

    return StoppingCriteriaList([_Cancelled()])


def has_weights(folder: Path) -> bool:
    """Whether ``folder`` looks like a saved transformers model (config + safetensors)."""
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


@functools.lru_cache(maxsize=1)
def load_qwen3_vl(folder: str, dtype: str = "float32", device: str = "cpu") -> tuple[Any, Any]:
    """Load ``(processor, model)`` from a local folder once (never touches the hub)."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    log.info("loading Qwen3-VL from %s", folder)
    processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
    model = AutoModelForImageTextToText.from_pretrained(
        folder, dtype=getattr(torch, dtype), local_files_only=True
    )
    model.to(device).eval()
    return processor, model


@register_vlm("qwen3_vl")
class Qwen3VL(VLMBackend):
    """Qwen3-VL vision-language model on the local CPU/GPU.

    Args:
        model_dir: Folder with the saved model; default ``$MODELS_DIR/<variant>``.
        variant: Folder name under ``MODELS_DIR`` (``Qwen3-VL-2B-Instruct``, ``-4B-``, ``-8B-``).
        max_new_tokens: Generation budget for the JSON answer.
        max_image_side: Images are downscaled to this longer side (CPU time grows with pixels).
        dtype: Torch dtype name for the weights (``float32`` on CPU, ``bfloat16`` on GPU).
        device: Torch device for inference.
        max_time_s: Generation stops after this many seconds (keep it under the pipeline's VLM
            timeout so an abandoned generation does not hold the model).
        lock_timeout_s: How long a request waits for the model while another generates.
    """

    label = "Qwen3-VL (local)"
    box_format = BOX_XYXY_1000

    def __init__(
        self,
        model_dir: str | None = None,
        variant: str = DEFAULT_VARIANT,
        max_new_tokens: int = 512,
        max_image_side: int = 512,
        dtype: str = "float32",
        max_time_s: float = 55.0,
        device: str = "cpu",
        lock_timeout_s: float = 30.0,
        **cfg: Any,
    ) -> None:
        super().__init__(**cfg)
        self.model_dir = weights_dir(model_dir, variant)
        self.max_new_tokens = int(max_new_tokens)
        self.max_image_side = int(max_image_side)
        self.dtype = dtype
        self.max_time_s = float(max_time_s)
        self.device = device
        self.lock_timeout_s = float(lock_timeout_s)

    def _check_availability(self) -> Availability:
        if importlib.util.find_spec("transformers") is None:
            return Availability(False, "the transformers package is not installed")
        if not has_weights(self.model_dir):
            return Availability(False, f"no Qwen3-VL weights in {self.model_dir}")
        return Availability(True)

    def messages(self, request: FindingRequest) -> list[dict[str, Any]]:
        """The chat messages: system prompt, then the images and the evidence prompt."""
        from PIL import Image

        content: list[dict[str, Any]] = []
        for _, image in prompt_images(request):
            pil = Image.fromarray(image)
            if max(pil.size) > self.max_image_side:
                pil.thumbnail((self.max_image_side, self.max_image_side))
            content.append({"type": "image", "image": pil})
        content.append({"type": "text", "text": build_prompt(request, self.box_format)})
        return [
            {"role": "system", "content": [{"type": "text", "text": SYSTEM_PROMPT[request.lang]}]},
            {"role": "user", "content": content},
        ]

    def answer(self, request: FindingRequest) -> str:
        """Run the model and return its raw text answer."""
        import torch

        processor, model = load_qwen3_vl(str(self.model_dir), self.dtype, self.device)
        inputs = processor.apply_chat_template(
            self.messages(request),
            tokenize=True,
            add_generation_prompt=True,
            return_dict=True,
            return_tensors="pt",
        ).to(model.device)
        acquire_model(_LOCK, self.lock_timeout_s, request)  # one generation at a time, never forever
        try:
            with torch.inference_mode():
                output = model.generate(
                    **inputs,
                    max_new_tokens=self.max_new_tokens,
                    max_time=self.max_time_s,
                    do_sample=False,
                    stopping_criteria=cancel_criteria(request),
                )
        finally:
            _LOCK.release()
        if request.cancelled:
            raise BackendError("Qwen3-VL was cancelled (the inspection gave up waiting)")
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        return processor.batch_decode(new_tokens, skip_special_tokens=True)[0]

    def _generate(self, request: FindingRequest) -> dict[str, Any]:
        text = self.answer(request)
        log.debug("Qwen3-VL answer: %s", text[:500])
        return parse_answer(text, request, self.box_format)
