"""YOLO-World built from ultralytics' YAML, weights via safetensors, CLIP text features replaced.

Tests plumbing (safetensors load -> classes from text features -> predict -> pixel boxes), not quality.
"""

from __future__ import annotations

import pytest

from models.vlg import create_vlg
from models.vlg.prompts import CT_PROMPTS, LABEL_MAP
from models.vlg.yolo_world import YOLOWorldVLG
from tests.models.vlm._requests import CT_SIZE, RGB_SIZE, make_request

pytest.importorskip("ultralytics")
torch = pytest.importorskip("torch")

ARCH = "yolov8n-worldv2.yaml"  # smallest scale of the same architecture


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    from safetensors.torch import save_file
    from ultralytics import YOLOWorld

    folder = tmp_path_factory.mktemp("yolo-world")
    model = YOLOWorld(ARCH).model
    path = folder / "yolov8n-worldv2.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    clip = folder / "clip-vit-base-patch32"  # only has to exist: its encoder is replaced below
    clip.mkdir()
    (clip / "config.json").write_text("{}")
    (clip / "model.safetensors").write_bytes(b"")
    return path, clip


@pytest.fixture()
def fake_text_features(monkeypatch):
    calls = []

    def text_features(self, prompts):
        calls.append(list(prompts))
        feats = torch.randn(1, len(prompts), 512, generator=torch.Generator().manual_seed(len(calls)))
        return feats / feats.norm(dim=-1, keepdim=True)

    monkeypatch.setattr(YOLOWorldVLG, "text_features", text_features)
    return calls


def test_reasons_name_the_missing_file(tmp_path, weights):
    status = create_vlg("yolo_world", weights=str(tmp_path / "none.safetensors")).availability()
    assert status.reason == f"no YOLO-World weights at {tmp_path / 'none.safetensors'}"
    status = create_vlg("yolo_world", weights=str(weights[0]), clip_dir=str(tmp_path / "clip")).availability()
    assert not status.ok and "no CLIP weights in" in status.reason and "text prompts" in status.reason


def test_detects_pixel_boxes(weights, fake_text_features):
    path, clip = weights
    backend = create_vlg(
        "yolo_world",
        weights=str(path),
        arch=ARCH,
        clip_dir=str(clip),
        box_threshold=0.0,
        imgsz=64,
        max_boxes=4,
    )
    assert backend.availability().ok
    boxes = backend.detect(make_request())
    assert fake_text_features[0] == list(CT_PROMPTS)  # the CT prompt list became the classes
    assert len(fake_text_features) == 2  # then the RGB list
    known = set(LABEL_MAP.values())
    for modality, (width, height) in (("ct", CT_SIZE), ("rgb", RGB_SIZE)):
        for b in (b for b in boxes if b["modality"] == modality):
            x, y, w, h = b["box"]
            assert 0 <= x and 0 <= y and x + w <= width + 0.1 and y + h <= height + 0.1
            assert b["label"] in known
        assert len([b for b in boxes if b["modality"] == modality]) <= 4


def test_mismatched_weights_are_a_checkpoint_error(tmp_path, weights, fake_text_features):
    from safetensors.torch import save_file

    from core.errors import CheckpointError

    bad = tmp_path / "bad.safetensors"
    save_file({"nothing": torch.zeros(1)}, str(bad))
    backend = create_vlg(
        "yolo_world", weights=str(bad), arch="yolov8s-worldv2.yaml", clip_dir=str(weights[1])
    )
    with pytest.raises(CheckpointError, match="does not match yolov8s-worldv2.yaml"):
        backend.detect(make_request())
