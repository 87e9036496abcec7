"""Gemini (Google API) through the ``google-genai`` SDK, with a response schema for the finding.

The key comes from ``GEMINI_API_KEY`` (or, inside the Streamlit app, ``st.secrets``); it is
never logged or shown. The endpoint is the SDK default unless ``base_url`` is configured or
the SDK's own ``GOOGLE_GEMINI_BASE_URL`` is set. Requests have a timeout and are retried
with exponential backoff on 408/429/5xx by the SDK's ``HttpRetryOptions``.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import os
import sys
from typing import Any

import numpy as np

from models.vlm.base import Availability, BackendError, FindingRequest, VLMBackend
from models.vlm.parsing import extract_json, normalise_finding
from models.vlm.prompts import BOX_YXYX_1000, FINDING_SCHEMA, SYSTEM_PROMPT, build_prompt, prompt_images
from models.vlm.registry import register_vlm

log = logging.getLogger(__name__)

API_KEY_ENV = "GEMINI_API_KEY"
RETRY_STATUS_CODES = (408, 429, 500, 502, 503, 504)


def find_api_key() -> str | None:
    """``GEMINI_API_KEY`` from the environment, else from Streamlit secrets when running in the app."""
    key = os.environ.get(API_KEY_ENV)
    if key:
        return key
    if "streamlit" in sys.modules:  # only inside the app; never import streamlit for the CLI
        try:
            import streamlit as st

            return st.secrets.get(API_KEY_ENV) or None
        except Exception:  # no secrets.toml: Streamlit raises its own error types
            return None
    return None


def encode_png(image: np.ndarray, max_side: int) -> bytes:
    """PNG bytes of a ``uint8`` RGB image, downscaled so its longer side is at most ``max_side``."""
    from PIL import Image

    pil = Image.fromarray(np.asarray(image, dtype=np.uint8))
    if max(pil.size) > max_side:
        pil.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


@register_vlm("gemini")
class GeminiVLM(VLMBackend):
    """Gemini vision-language model (cloud API).

    Args:
        model: Gemini model name.
        api_key: API key; default ``GEMINI_API_KEY`` (or Streamlit secrets).
        base_url: API endpoint; default the SDK's (which honours ``GOOGLE_GEMINI_BASE_URL``).
        timeout_s: Timeout of one HTTP attempt, in seconds.
        retries: Extra attempts after a 408/429/5xx answer or a timeout.
        backoff_s: First retry delay in seconds (doubles each retry, with jitter).
        max_backoff_s: Longest retry delay in seconds.
        temperature: Sampling temperature.
        max_image_side: Images are downscaled to this longer side before upload.
    """

    label = "Gemini (Google API)"
    paid = True
    box_format = BOX_YXYX_1000

    def __init__(
        self,
        model: str = "gemini-2.5-pro",
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        retries: int = 2,
        backoff_s: float = 1.0,
        max_backoff_s: float = 16.0,
        temperature: float = 0.2,
        max_image_side: int = 1024,
        **cfg: Any,
    ) -> None:
        super().__init__(**cfg)
        self.model = model
        self._api_key = api_key
        self.base_url = base_url
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.temperature = float(temperature)
        self.max_image_side = int(max_image_side)
        self._client: Any = None

    def _check_availability(self) -> Availability:
        if importlib.util.find_spec("google.genai") is None:
            return Availability(False, "the google-genai package is not installed")
        if not (self._api_key or find_api_key()):
            return Availability(False, f"no {API_KEY_ENV} set")
        return Availability(True)

    def client(self) -> Any:
        """The ``genai.Client`` (created once) with timeout, retries and optional base URL."""
        if self._client is None:
            from google import genai
            from google.genai import types

            http_options = types.HttpOptions(
                base_url=self.base_url,
                timeout=int(self.timeout_s * 1000),  # the SDK takes milliseconds
                retry_options=types.HttpRetryOptions(
                    attempts=self.retries + 1,
                    initial_delay=self.backoff_s,
                    max_delay=self.max_backoff_s,
                    jitter=self.backoff_s,  # random extra delay up to one first-backoff
                    http_status_codes=list(RETRY_STATUS_CODES),
                ),
            )
            self._client = genai.Client(api_key=self._api_key or find_api_key(), http_options=http_options)
        return self._client

    def _generate(self, request: FindingRequest) -> dict[str, Any]:
        from google.genai import errors, types

        parts: list[Any] = [
            types.Part.from_bytes(data=encode_png(image, self.max_image_side), mime_type="image/png")
            for _, image in prompt_images(request)
        ]
        parts.append(build_prompt(request, self.box_format))
        config = types.GenerateContentConfig(
            system_instruction=SYSTEM_PROMPT[request.lang],
            response_mime_type="application/json",
            response_json_schema=FINDING_SCHEMA,
            temperature=self.temperature,
        )
        try:
            response = self.client().models.generate_content(model=self.model, contents=parts, config=config)
        except errors.APIError as exc:
            raise BackendError(self._describe_api_error(exc)) from None
        except Exception as exc:
            if _is_timeout(exc):
                raise BackendError(
                    f"Gemini did not answer within {self.timeout_s:g} s (tried {self.retries + 1} times)"
                ) from None
            raise BackendError(f"could not reach Gemini: {self._redact(str(exc))}") from None
        text = _response_text(response)
        if not text:
            raise BackendError("Gemini returned no answer (the response was empty or blocked)")
        try:
            return normalise_finding(extract_json(text), request, self.box_format)
        except ValueError as exc:
            raise BackendError(f"Gemini's answer is not a valid finding: {exc}") from None

    def _describe_api_error(self, exc: Any) -> str:
        code = getattr(exc, "code", None)
        message = self._redact(str(getattr(exc, "message", "") or exc)).splitlines()[0][:200]
        if code == 429:
            return f"Gemini is rate-limiting requests (HTTP 429) after {self.retries + 1} attempts: {message}"
        if code in (401, 403):
            return f"Gemini rejected the API key (HTTP {code}); check {API_KEY_ENV}"
        if code == 404:
            return f"Gemini model {self.model!r} was not found (HTTP 404)"
        if isinstance(code, int) and code >= 500:
            return f"Gemini server error (HTTP {code}) after {self.retries + 1} attempts: {message}"
        return f"Gemini request failed (HTTP {code}): {message}"

    def _redact(self, text: str) -> str:
        key = self._api_key or find_api_key()
        return text.replace(key, "***") if key else text


def _is_timeout(exc: BaseException) -> bool:
    # the SDK runs on httpx or its fork httpx2; both name their timeout base TimeoutException
    return any(cls.__name__ in ("TimeoutException", "TimeoutError") for cls in type(exc).__mro__)


def _response_text(response: Any) -> str:
    try:
        return (response.text or "").strip()
    except (ValueError, AttributeError):  # no candidates / blocked
        return ""
