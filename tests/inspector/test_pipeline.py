"""The inspector: verdicts end to end, one-sided inspections, backend timeouts, thread safety."""

import threading
import time

import numpy as np
import pytest

from core.errors import CheckpointError, ConfigError, InputError
from inspector.pipeline import InspectionRequest, Inspector, InspectorSettings, run_inspection
from models.vlm import Availability, VLMBackend, register_vlm
from tests.inspector._checkpoints import ct_image, default_checkpoint_dir, rgb_image

CONTRACT_KEYS = {
    "verdict", "confidence", "confidence_calibrated", "confidence_raw", "needs_review", "review_reasons",
    "ct", "rgb", "vlm", "vlg", "timings_ms",
}  # fmt: skip
CT_DEFECT = ct_image(64, blob=(8, 40, 16, 12))
RGB_DEFECT = rgb_image(64, square=(40, 8, 12, 10))


@register_vlm("test_slow")
class SlowVLM(VLMBackend):
    """Answers after 5 s: longer than any test timeout."""

    def _check_availability(self):
        return Availability(True)

    def _generate(self, request):
        time.sleep(5)
        raise AssertionError("the pipeline should have stopped waiting")


@register_vlm("test_broken")
class BrokenVLM(VLMBackend):
    def _check_availability(self):
        return Availability(True)

    def _generate(self, request):
        raise RuntimeError("model exploded")


@register_vlm("test_missing")
class MissingVLM(VLMBackend):
    def _check_availability(self):
        return Availability(False, "test_missing needs weights in MODELS_DIR")

    def _generate(self, request):
        raise AssertionError("never called when unavailable")


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory):
    return default_checkpoint_dir(tmp_path_factory.mktemp("ckpt"))


@pytest.fixture(scope="module")
def inspector(ckpt_dir) -> Inspector:
    return Inspector.load(InspectorSettings(checkpoints_dir=ckpt_dir))


@pytest.mark.parametrize(
    ("ct", "rgb", "verdict"),
    [
        (ct_image(64), rgb_image(64), "normal"),
        (CT_DEFECT, rgb_image(64), "internal_defect"),
        (ct_image(64), RGB_DEFECT, "external_defect"),
        (CT_DEFECT, RGB_DEFECT, "composite_defect"),
    ],
)
def test_analyse_gives_the_truth_table_verdict(inspector, ct, rgb, verdict):
    evidence = inspector.analyse(ct=ct, rgb=rgb, battery_type="cell", axis="x")
    assert evidence.verdict.verdict == verdict
    result = evidence.to_dict()
    assert set(result) == CONTRACT_KEYS - {"vlm", "vlg"}
    ct_conf, rgb_conf = result["ct"]["confidence"], result["rgb"]["confidence"]
    expected = {
        "normal": (evidence.ct.normal_probability + evidence.rgb.normal_probability) / 2,
        "internal_defect": ct_conf,
        "external_defect": rgb_conf,
        "composite_defect": (ct_conf + rgb_conf) / 2,
    }[verdict]
    assert result["confidence"] == pytest.approx(expected, abs=1e-5)
    assert evidence.ct_overlay.shape == (64, 64, 3) and evidence.rgb_overlay.dtype == np.uint8


def test_one_image_leaves_the_other_side_null(inspector):
    only_ct = inspector.analyse(ct=CT_DEFECT).to_dict()
    assert only_ct["rgb"] is None and only_ct["verdict"] == "internal_defect"
    only_rgb = inspector.analyse(rgb=rgb_image(64)).to_dict()
    assert only_rgb["ct"] is None and only_rgb["verdict"] == "normal"
    with pytest.raises(InputError, match="CT image, an RGB image"):
        inspector.analyse()


def test_missing_default_checkpoint_only_fails_the_side_that_needs_it(tmp_path, ckpt_dir):
    inspector = Inspector.load(
        InspectorSettings(checkpoints_dir=tmp_path, rgb_checkpoint=ckpt_dir / "rgb_test")
    )
    assert inspector.analyse(rgb=RGB_DEFECT).verdict.verdict == "external_defect"
    with pytest.raises(CheckpointError, match="--ct-checkpoint"):
        inspector.analyse(ct=CT_DEFECT)
    with pytest.raises(CheckpointError, match="does not exist"):
        Inspector.load(InspectorSettings(ct_checkpoint=tmp_path / "nope.safetensors"))


def test_and_policy_and_threshold_settings(ckpt_dir):
    strict = Inspector.load(InspectorSettings(checkpoints_dir=ckpt_dir, policy="and"))
    assert strict.analyse(ct=CT_DEFECT, rgb=rgb_image(64)).verdict.verdict == "normal"
    assert strict.analyse(ct=CT_DEFECT, rgb=RGB_DEFECT).verdict.verdict == "composite_defect"
    lenient = Inspector.load(
        InspectorSettings(checkpoints_dir=ckpt_dir, ct_threshold=0.99, rgb_threshold=10.0)
    )
    assert lenient.analyse(ct=CT_DEFECT, rgb=RGB_DEFECT).verdict.verdict == "normal"
    with pytest.raises(ConfigError):
        InspectorSettings(policy="xor")
    with pytest.raises(ConfigError):
        InspectorSettings(vlm_timeout_s=0)
    with pytest.raises(ConfigError, match="unknown inspector setting"):
        InspectorSettings.from_dict({"polcy": "or"})


def test_run_inspection_returns_the_contract_with_offline_backends(inspector):
    stages = []
    request = InspectionRequest(ct=CT_DEFECT, rgb=RGB_DEFECT, battery_type="cell", axis="x")
    result = run_inspection(inspector, request, on_update=lambda stage, r: stages.append((stage, r)))
    assert set(result) == CONTRACT_KEYS
    assert result["verdict"] == "composite_defect"
    assert set(result["vlm"]) == {"backend", "available", "finding", "error", "latency_ms", "mode"}
    assert set(result["vlg"]) == {
        "backend", "available", "boxes", "error", "latency_ms", "verdict", "confidence", "threshold"
    }
    assert result["vlm"]["available"] and result["vlm"]["error"] is None
    assert result["vlm"]["finding"]["defect_detected"] is True
    assert result["vlm"]["finding"]["verdict"] == "composite_defect" and result["vlm"]["mode"] == "evidence"
    assert result["vlg"]["verdict"] == "composite_defect" and 0 < result["vlg"]["confidence"] <= 1
    assert (
        stages[0][0] == "verdict"
        and stages[0][1]["vlm"] is None
        and stages[0][1]["verdict"] == "composite_defect"
    )
    assert sorted(s for s, _ in stages[1:]) == ["vlg", "vlm"]


def test_blind_mode_keeps_the_evidence_from_models_but_not_from_the_offline_writer(inspector, monkeypatch):
    from models.vlm.base import VLMBackend
    from models.vlm.registry import _VLMS

    seen = []

    class Recorder(VLMBackend):
        name = "test_recorder"

        def _check_availability(self):
            from models.vlm.base import Availability

            return Availability(True)

        def _generate(self, request):
            seen.append(request)
            return {"defect_detected": False, "defect_type": "none", "location": "", "boxes": [],
                    "severity": "low", "probable_cause": "", "recommended_action": "", "summary": "ok"}

    monkeypatch.setitem(_VLMS, "test_recorder", Recorder)
    request = InspectionRequest(ct=CT_DEFECT, rgb=RGB_DEFECT, battery_type="cell", axis="x")
    result = run_inspection(inspector, request, vlm="test_recorder", vlg="none", vlm_mode="blind")
    assert result["vlm"]["mode"] == "blind" and result["vlm"]["finding"]["verdict"] == "normal"
    (sent,) = seen
    assert sent.evidence == {} and sent.ct_attention is None and sent.ct_overlay is None
    assert sent.battery_type == "cell" and sent.ct_image is not None
    result = run_inspection(inspector, request, vlm="test_recorder", vlg="none", vlm_mode="evidence")
    assert seen[1].evidence["verdict"] == "composite_defect" and result["vlm"]["mode"] == "evidence"
    writer = run_inspection(inspector, request, vlm="findings_writer", vlg="none", vlm_mode="blind")
    assert writer["vlm"]["mode"] == "evidence" and writer["vlm"]["finding"]["verdict"] == "composite_defect"


def test_slow_backend_times_out_without_delaying_or_changing_the_verdict(inspector):
    request = InspectionRequest(ct=CT_DEFECT, rgb=rgb_image(64))
    seen = {}
    start = time.perf_counter()
    result = run_inspection(
        inspector,
        request,
        vlm="test_slow",
        vlg="none",
        timeouts={"vlm": 0.3},
        on_update=lambda stage, r: seen.setdefault(stage, time.perf_counter() - start),
    )
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0  # the backend sleeps 5 s
    assert seen["verdict"] < 1.0 and seen["verdict"] <= seen["vlm"]
    assert result["verdict"] == "internal_defect"
    assert result["vlm"]["error"] == "test_slow timed out after 0.3 s" and result["vlm"]["finding"] is None
    assert result["vlg"]["backend"] is None and result["vlg"]["available"] is False


def test_failing_and_unavailable_backends_fill_error_only(inspector):
    request = InspectionRequest(ct=ct_image(64), rgb=RGB_DEFECT)
    broken = run_inspection(inspector, request, vlm="test_broken", vlg="no_such_vlg")
    assert broken["verdict"] == "external_defect"
    assert "model exploded" in broken["vlm"]["error"] and broken["vlm"]["available"] is True
    assert "unknown VLG backend" in broken["vlg"]["error"] and broken["vlg"]["available"] is False
    missing = run_inspection(inspector, request, vlm="test_missing", vlg="none")
    assert missing["vlm"] == {
        "backend": "test_missing",
        "available": False,
        "finding": None,
        "error": "test_missing needs weights in MODELS_DIR",
        "latency_ms": missing["vlm"]["latency_ms"],
    }


def test_concurrent_analyse_calls_are_independent(inspector):
    images = [
        (ct_image(64), rgb_image(64)),
        (CT_DEFECT, rgb_image(64)),
        (ct_image(64), RGB_DEFECT),
        (ct_image(64, blob=(30, 4, 20, 20)), rgb_image(64, square=(2, 30, 20, 20))),
    ]
    expected = [inspector.analyse(ct, rgb).to_dict() for ct, rgb in images]
    barrier = threading.Barrier(len(images))
    results: dict[int, list] = {i: [] for i in range(len(images))}

    def work(i: int) -> None:
        barrier.wait()
        for _ in range(3):
            evidence = inspector.analyse(*images[i])
            results[i].append((evidence.to_dict(), evidence.attention_map))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, runs in results.items():
        for got, attention in runs:
            assert {k: v for k, v in got.items() if k != "timings_ms"} == {
                k: v for k, v in expected[i].items() if k != "timings_ms"
            }
            np.testing.assert_allclose(attention, inspector.analyse(*images[i]).attention_map, atol=1e-6)


def test_default_checkpoints_dir_follows_the_environment(tmp_path, monkeypatch, ckpt_dir):
    monkeypatch.setenv("INSPECTOR_CHECKPOINTS_DIR", str(ckpt_dir))
    assert InspectorSettings().checkpoints_dir == ckpt_dir
    assert Inspector.load(sides=("rgb",)).predictors["rgb"] is not None


def test_missing_backend_package_is_reported_not_raised(ckpt_dir, monkeypatch):
    import sys

    inspector = Inspector.load(InspectorSettings(checkpoints_dir=ckpt_dir))
    for module in ("models.vlm", "models.vlm.base", "models.vlg"):
        monkeypatch.setitem(sys.modules, module, None)  # importing it raises ImportError
    request = InspectionRequest(rgb=RGB_DEFECT)
    result = run_inspection(inspector, request, vlm="findings_writer", vlg="model_boxes")
    assert result["verdict"] == "external_defect"
    for kind in ("vlm", "vlg"):
        assert result[kind]["available"] is False and "not available in this build" in result[kind]["error"]


def test_review_flags_blank_and_noise_ct_but_not_a_clean_slice(inspector):
    blank = inspector.analyse(ct=np.zeros((64, 64), np.float32), battery_type="cell", axis="y")
    assert blank.needs_review and "ct_blank_image" in blank.review_reasons
    assert blank.to_dict()["needs_review"] is True and "ct_blank_image" in blank.to_dict()["review_reasons"]
    noise = inspector.analyse(ct=np.random.default_rng(0).random((64, 64)).astype(np.float32), battery_type="cell", axis="y")
    assert "ct_noise_like" in noise.review_reasons
    clean = inspector.analyse(ct=CT_DEFECT, battery_type="cell", axis="y")
    image_codes = {"ct_blank_image", "ct_noise_like", "ct_colour_photo", "ct_nonfinite_pixels"}
    assert not image_codes & set(clean.review_reasons)
    assert clean.to_dict()["ct"]["ood_score"] is None  # this test checkpoint carries no density


def test_review_flags_an_rgb_photo_given_as_ct(inspector, tmp_path):
    import cv2

    from core.imageio import load_image

    photo = np.zeros((64, 64, 3), np.uint8)
    photo[..., 0] = np.linspace(0, 255, 64)[None, :]
    photo[..., 2] = 200
    cv2.imwrite(str(tmp_path / "photo.png"), photo)
    evidence = inspector.analyse(ct=load_image(tmp_path / "photo.png", "ct"), battery_type="cell", axis="y")
    assert "ct_colour_photo" in evidence.review_reasons
