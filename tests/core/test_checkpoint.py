"""Checkpoint save/load round trip and its errors."""

import json

import pytest
import torch
from torch import nn

from core.checkpoint import (
    CARD_KEYS,
    load_checkpoint,
    load_state_dict_strict,
    save_checkpoint,
    update_card,
)
from core.errors import CheckpointError


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(3))


def _card() -> dict:
    return {"task": "ct", "architecture": "toy", "model_kwargs": {}, "class_names": ["a", "b", "c"]}


def test_fp16_round_trip(tmp_path):
    model = _model()
    model(torch.rand(2, 1, 8, 8))  # materialise the lazy layer, fill BN running stats
    path = save_checkpoint(model, tmp_path / "best", _card(), fp16=True)
    assert path == tmp_path / "best.safetensors"
    state, card = load_checkpoint(tmp_path / "best.json", task="ct", architecture="toy")
    assert set(CARD_KEYS) <= set(card)
    assert card["dtype"] == "float16" and card["created"] and len(card["sha256"]) == 64
    assert state["0.weight"].dtype == torch.float16
    assert state["1.num_batches_tracked"].dtype == torch.int64  # integer buffers keep their type
    clone = _model()
    clone(torch.rand(2, 1, 8, 8))
    load_state_dict_strict(clone, state, card)
    for (name, a), b in zip(model.state_dict().items(), clone.state_dict().values()):
        assert a.dtype == b.dtype
        assert torch.allclose(a.float(), b.float(), atol=1e-3, rtol=1e-3), name
    x = torch.rand(1, 1, 8, 8)
    model.eval(), clone.eval()
    assert torch.allclose(model(x), clone(x), atol=1e-2)


def test_fp32_is_exact(tmp_path):
    model = nn.Linear(3, 2)
    save_checkpoint(model, tmp_path / "m.safetensors", _card(), fp16=False)
    state, _ = load_checkpoint(tmp_path / "m")
    assert torch.equal(state["weight"], model.weight.detach())


def test_missing_and_wrong_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.safetensors")
    save_checkpoint(nn.Linear(3, 2), tmp_path / "m", {**_card(), "task": "rgb"})
    with pytest.raises(CheckpointError, match="rgb checkpoint, not a ct one"):
        load_checkpoint(tmp_path / "m", task="ct")
    with pytest.raises(CheckpointError, match="architecture"):
        load_checkpoint(tmp_path / "m", architecture="resnet18")
    state, card = load_checkpoint(tmp_path / "m")
    with pytest.raises(CheckpointError, match="do not match architecture"):
        load_state_dict_strict(nn.Linear(4, 2), state, card)


def test_corrupt_files_are_checkpoint_errors(tmp_path):
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path / "bad")
    (tmp_path / "bad.json").write_text(json.dumps(_card()))
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_checkpoint(tmp_path / "bad")


def test_update_card(tmp_path):
    save_checkpoint(nn.Linear(3, 2), tmp_path / "m", _card())
    card = update_card(tmp_path / "m.safetensors", temperature=1.7, default=True)
    assert card["temperature"] == 1.7
    assert json.loads((tmp_path / "m.json").read_text())["default"] is True


def test_export_to_fp16_with_card_fields(tmp_path):
    from core.checkpoint import export_checkpoint

    model = nn.Linear(3, 2)
    save_checkpoint(model, tmp_path / "run" / "best", _card(), fp16=False)
    path = export_checkpoint(
        tmp_path / "run" / "best.safetensors", tmp_path / "ct_toy", default=True, metrics={"x": 1}
    )
    state, card = load_checkpoint(path, task="ct")
    assert state["weight"].dtype == torch.float16 and card["dtype"] == "float16"
    assert card["default"] is True and card["metrics"] == {"x": 1}
    assert card["exported_from"].endswith("best.safetensors") and card["architecture"] == "toy"
