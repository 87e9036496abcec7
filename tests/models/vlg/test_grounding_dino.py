"""GroundingDINO as a tiny randomly initialised model saved to a temp dir and loaded by the real code.

Tests plumbing (load -> processor -> forward -> post-process -> NMS -> pixel boxes), not quality.
"""

from __future__ import annotations

import pytest

from models.vlg import create_vlg
from models.vlg.base import box_iou_xyxy
from models.vlg.prompts import CT_PROMPTS, LABEL_MAP, RGB_PROMPTS
from tests.models.vlm._requests import CT_SIZE, RGB_SIZE, ct_slice, make_request

transformers = pytest.importorskip("transformers")

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "."] + sorted(
    {w for p in CT_PROMPTS + RGB_PROMPTS for w in p.split()}
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from transformers import BertTokenizer, GroundingDinoConfig, GroundingDinoForObjectDetection, SwinConfig
    from transformers.models.grounding_dino.image_processing_grounding_dino import GroundingDinoImageProcessor
    from transformers.models.grounding_dino.processing_grounding_dino import GroundingDinoProcessor

    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(WORDS)})
    processor = GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessor(size={"shortest_edge": 64, "longest_edge": 96}),
        tokenizer=tokenizer,
    )
    config = GroundingDinoConfig(
        backbone_config=SwinConfig(
            window_size=7,
            embed_dim=8,
            depths=[1, 1, 1, 1],
            num_heads=[1, 1, 1, 1],
            image_size=64,
            out_features=["stage2", "stage3", "stage4"],
            out_indices=[2, 3, 4],
        ),
        text_config={
            "model_type": "bert",
            "hidden_size": 8,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 8,
            "max_position_embeddings": 64,
            "vocab_size": len(WORDS),
        },
        d_model=32,
        encoder_layers=1,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        num_queries=20,
        num_feature_levels=4,
        encoder_n_points=2,
        decoder_n_points=2,
        max_text_len=64,
    )
    folder = tmp_path_factory.mktemp("grounding-dino-tiny")
    GroundingDinoForObjectDetection(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_unavailable_without_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELS_DIR", str(tmp_path))
    status = create_vlg("grounding_dino").availability()
    assert not status.ok
    assert status.reason == f"no GroundingDINO weights in {tmp_path / 'grounding-dino-tiny'}"


def test_detects_pixel_boxes_on_both_images(model_dir):
    backend = create_vlg(
        "grounding_dino",
        model_dir=str(model_dir),
        box_threshold=0.0,
        text_threshold=0.0,
        max_boxes=5,
        nms_iou=0.5,
    )
    assert backend.availability().ok
    boxes = backend.detect(make_request())
    assert boxes, "a random model with zero thresholds still proposes boxes"
    known = set(LABEL_MAP.values())
    for modality, (width, height) in (("ct", CT_SIZE), ("rgb", RGB_SIZE)):
        mine = [b for b in boxes if b["modality"] == modality]
        assert 1 <= len(mine) <= 5
        for b in mine:
            x, y, w, h = b["box"]
            assert 0 <= x and 0 <= y and w >= 1 and h >= 1 and x + w <= width + 0.1 and y + h <= height + 0.1
            assert b["label"] in known and 0.0 <= b["score"] <= 1.0 and "prompt" in b
        corners = [[x, y, x + w, y + h] for x, y, w, h in (b["box"] for b in mine)]
        assert all(box_iou_xyxy(a, c) <= 0.5 + 1e-6 for i, a in enumerate(corners) for c in corners[i + 1 :])
    assert backend.last_latency_ms > 0


def test_custom_prompts_and_high_threshold(model_dir):
    backend = create_vlg("grounding_dino", model_dir=str(model_dir), box_threshold=1.01)
    assert backend.detect_image(ct_slice(), "ct", prompts=["void"]) == []
