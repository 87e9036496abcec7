"""Finding / request validation, the registry and the base class's shared work."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import BackendUnavailable, ConfigError, InputError
from models.vlm import (
    Availability,
    BackendError,
    Finding,
    FindingRequest,
    VLMBackend,
    create_vlm,
    list_vlms,
)
from models.vlm.base import to_rgb8

FIELDS = dict(
    defect_detected=True,
    defect_type="porosity",
    location="upper-left",
    boxes=[{"label": "porosity", "score": 0.9, "box": [1, 2, 3, 4]}],
    severity="High",
    probable_cause="gas",
    recommended_action="hold",
    summary="pores",
    language="en",
)


def test_registry_lists_the_three_vlms():
    builtin = ["findings_writer", "gemini", "qwen3_vl"]
    assert [n for n in list_vlms() if n in builtin] == builtin  # other tests may register more


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown VLM backend 'gpt'"):
        create_vlm("gpt")


def test_finding_normalises_and_validates():
    finding = Finding(**FIELDS)
    assert finding.severity == "high"
    assert finding.to_dict()["boxes"] == [{"label": "porosity", "score": 0.9, "box": [1.0, 2.0, 3.0, 4.0]}]
    with pytest.raises(ValueError, match="severity"):
        Finding(**{**FIELDS, "severity": "moderate"})
    with pytest.raises(ValueError, match="language"):
        Finding(**{**FIELDS, "language": "fr"})
    with pytest.raises(ValueError, match="box"):
        Finding(**{**FIELDS, "boxes": [{"label": "x", "box": [1, 2]}]})


def test_request_rejects_unknown_language():
    with pytest.raises(InputError, match="language"):
        FindingRequest(lang="de")


def test_request_modalities_and_sizes():
    request = FindingRequest(rgb_image=np.zeros((30, 40, 3), np.uint8))
    assert request.modalities() == ["rgb"]
    assert request.image_size("rgb") == (40, 30)
    with pytest.raises(InputError, match="no CT image"):
        request.image_size("ct")


def test_to_rgb8_converts_ct_floats():
    ct = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    rgb = to_rgb8(ct)
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0, 0] == 0 and rgb[-1, -1, 2] == 255


class _Fake(VLMBackend):
    name = "fake"

    def __init__(self, answer=None, error=None, ok=True):
        super().__init__()
        self.answer, self.error, self.ok, self.checks = answer, error, ok, 0

    def _check_availability(self):
        self.checks += 1
        return Availability(self.ok, "" if self.ok else "no fake weights in models_cache/fake")

    def _generate(self, request):
        if self.error:
            raise self.error
        return self.answer


def test_base_caches_availability_and_times_calls():
    answer = {k: v for k, v in FIELDS.items() if k != "language"}
    backend = _Fake(answer=answer)
    finding = backend.describe(FindingRequest(lang="ko"))
    backend.describe(FindingRequest())
    assert finding.language == "ko"  # the request's language wins
    assert backend.checks == 1
    assert backend.last_latency_ms is not None and backend.last_latency_ms >= 0


def test_base_raises_unavailable_with_the_reason():
    with pytest.raises(BackendUnavailable, match="no fake weights in models_cache/fake"):
        _Fake(ok=False).describe(FindingRequest())


def test_base_wraps_unexpected_errors_in_one_sentence():
    with pytest.raises(BackendError, match="fake failed: RuntimeError: boom"):
        _Fake(error=RuntimeError("boom")).describe(FindingRequest())
    with pytest.raises(BackendError, match="unusable finding"):
        _Fake(answer={**FIELDS, "severity": "whatever"}).describe(FindingRequest())


def test_unknown_option_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown option.*gemini VLM: modle"):
        create_vlm("gemini", modle="gemini-2.5-flash")


def test_unavailable_is_rechecked_so_new_keys_are_picked_up(monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    backend = create_vlm("gemini")
    assert not backend.availability().ok
    monkeypatch.setenv("GEMINI_API_KEY", "set-later")
    assert backend.availability().ok
