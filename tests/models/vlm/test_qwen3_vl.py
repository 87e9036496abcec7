"""Qwen3-VL as a tiny randomly initialised model saved to a temp dir and loaded by the real code.

Tests plumbing (load -> chat template -> generate -> decode -> parse -> pixel boxes), not quality.
"""

from __future__ import annotations

import json

import pytest

from models.vlm import BackendError, create_vlm
from models.vlm.qwen3_vl import load_qwen3_vl
from tests.models.vlm._requests import CT_SIZE, make_request

transformers = pytest.importorskip("transformers")

SPECIAL = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
ANSWER = {
    "defect_detected": True,
    "defect_type": "porosity",
    "location": "upper-left",
    "severity": "high",
    "probable_cause": "gas",
    "recommended_action": "hold",
    "summary": "pores",
    "boxes": [{"label": "porosity", "image": "ct", "bbox_2d": [250, 100, 500, 300]}],
}


def _tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([json.dumps(ANSWER) + " system user assistant"], trainer)
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor
    from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor

    tokenizer = _tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL}
    processor = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(
            patch_size=16, merge_size=2, temporal_patch_size=2, min_pixels=32 * 32, max_pixels=64 * 64
        ),
        tokenizer=tokenizer,
        video_processor=Qwen3VLVideoProcessor(patch_size=16, merge_size=2, temporal_patch_size=2),
        chat_template=TEMPLATE,
    )
    config = Qwen3VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=8,
            pad_token_id=ids["<|endoftext|>"],
            rope_parameters={
                "rope_type": "default",
                "rope_theta": 10000.0,
                "mrope_section": [1, 1, 2],
                "mrope_interleaved": True,
            },
        ),
        vision_config=dict(
            depth=2,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            patch_size=16,
            spatial_merge_size=2,
            temporal_patch_size=2,
            out_hidden_size=32,
            num_position_embeddings=16,
            deepstack_visual_indexes=[0],
        ),
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    model = Qwen3VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    folder = tmp_path_factory.mktemp("Qwen3-VL-tiny")
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_unavailable_without_weights(tmp_path):
    status = create_vlm("qwen3_vl", model_dir=str(tmp_path / "Qwen3-VL-2B-Instruct")).availability()
    assert not status.ok and status.reason.startswith("no Qwen3-VL weights in ")


def test_default_folder_follows_models_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MODELS_DIR", str(tmp_path))
    backend = create_vlm("qwen3_vl", variant="Qwen3-VL-4B-Instruct")
    assert backend.model_dir == tmp_path / "Qwen3-VL-4B-Instruct"


def test_random_model_runs_end_to_end(model_dir):
    backend = create_vlm("qwen3_vl", model_dir=str(model_dir), max_new_tokens=8)
    assert backend.availability().ok
    text = backend.answer(make_request())  # real load, chat template, vision tower, generate, decode
    assert isinstance(text, str)
    with pytest.raises(BackendError, match="qwen3_vl gave an unusable finding"):
        backend.describe(make_request())  # random tokens are no JSON: a clear error, not a crash


def test_answer_is_parsed_into_pixel_boxes(model_dir, monkeypatch):
    processor, model = load_qwen3_vl(str(model_dir), "float32", "cpu")  # the cached pair the backend uses
    import torch

    canned = "Here you go:\n```json\n" + json.dumps(ANSWER) + "\n```"
    answer_ids = torch.tensor([processor.tokenizer.encode(canned)])

    def fake_generate(input_ids, **kwargs):  # the model's weights are random; its answer is scripted
        return torch.cat([input_ids, answer_ids], dim=1)

    monkeypatch.setattr(model, "generate", fake_generate)
    finding = create_vlm("qwen3_vl", model_dir=str(model_dir)).describe(make_request("ko"))
    assert finding.defect_type == "porosity" and finding.severity == "high" and finding.language == "ko"
    w, h = CT_SIZE  # [x1, y1, x2, y2] = [250, 100, 500, 300] on the 0-1000 grid
    assert finding.boxes == [
        {"label": "porosity", "score": 1.0, "box": [0.25 * w, 0.1 * h, 0.25 * w, 0.2 * h], "modality": "ct"}
    ]
