"""Tests for models.backbones: the ResNet trunk, dilation and local pretrained loading."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from core.errors import CheckpointError, ConfigError
from models.backbones import adapt_input_conv, create_backbone, list_backbones


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.mark.parametrize(
    ("output_stride", "sizes"),
    [(32, [16, 8, 4, 2]), (16, [16, 8, 4, 4]), (8, [16, 8, 8, 8])],
)
def test_stage_maps_follow_output_stride(output_stride: int, sizes: list[int]) -> None:
    backbone = create_backbone("resnet18", in_chans=1, output_stride=output_stride).eval()
    with torch.no_grad():
        features = backbone(torch.randn(2, 1, 64, 64))
    assert [f.shape[-1] for f in features] == sizes
    assert [f.shape[1] for f in features] == backbone.channels == [64, 128, 256, 512]
    assert backbone.reductions == [64 // s for s in sizes]


def test_stride8_map_for_cam_has_input_over_8() -> None:
    backbone = create_backbone("resnet18", output_stride=8).eval()
    with torch.no_grad():
        last = backbone.forward_features(torch.randn(1, 1, 96, 128))
    assert last.shape == (1, 512, 12, 16)


def test_dilated_backbone_keeps_the_parameter_set() -> None:
    """Dilation changes strides, not weights: the same state dict loads at every output stride."""
    plain = create_backbone("resnet18", output_stride=32)
    dilated = create_backbone("resnet18", output_stride=8)
    dilated.load_state_dict(plain.state_dict())
    assert dilated.layer4[1].conv2.dilation == (4, 4)
    assert dilated.layer4[0].conv1.dilation == (2, 2)  # first block keeps the previous dilation
    assert dilated.layer3[0].conv1.stride == (1, 1)


def test_grayscale_stem_is_native() -> None:
    backbone = create_backbone("resnet18", in_chans=1)
    assert backbone.conv1.weight.shape == (64, 1, 7, 7)
    with pytest.raises(RuntimeError):
        backbone(torch.randn(1, 3, 64, 64))  # no silent channel repeat


def test_resnet34_depth() -> None:
    assert "resnet34" in list_backbones()
    backbone = create_backbone("resnet34")
    stages = (backbone.layer1, backbone.layer2, backbone.layer3, backbone.layer4)
    assert [len(stage) for stage in stages] == [3, 4, 6, 3]


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="output_stride"):
        create_backbone("resnet18", output_stride=4)
    with pytest.raises(ConfigError, match="resnet18"):
        create_backbone("vgg16")


def test_adapt_input_conv_sums_rgb_to_gray() -> None:
    weight = torch.randn(8, 3, 3, 3)
    gray = adapt_input_conv(weight, 1)
    assert gray.shape == (8, 1, 3, 3)
    torch.testing.assert_close(gray[:, 0], weight.sum(1))
    # a gray image copied to RGB gives the same response as the gray image with summed weights
    x = torch.randn(1, 1, 9, 9)
    rgb_out = torch.nn.functional.conv2d(x.repeat(1, 3, 1, 1), weight)
    torch.testing.assert_close(torch.nn.functional.conv2d(x, gray), rgb_out)


def test_pretrained_torchvision_style_rgb_file_loads(tmp_path) -> None:
    """An ImageNet-style file (RGB stem, fc head, 'model.' prefix) loads into the 1-channel trunk."""
    source = create_backbone("resnet18", in_chans=3)
    state = {f"model.{k}": v for k, v in source.state_dict().items()}
    state["model.fc.weight"] = torch.randn(1000, 512)
    path = tmp_path / "imagenet_resnet18.safetensors"
    save_file(state, str(path))

    backbone = create_backbone("resnet18", in_chans=1, pretrained_path=path)
    torch.testing.assert_close(backbone.layer3[1].conv2.weight, source.layer3[1].conv2.weight)
    torch.testing.assert_close(backbone.conv1.weight, source.conv1.weight.sum(1, keepdim=True))


def test_pretrained_missing_or_mismatched(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        create_backbone("resnet18", pretrained_path=tmp_path / "nope.safetensors")
    wrong = tmp_path / "wrong.safetensors"
    save_file({"layer1.0.conv1.weight": torch.zeros(3, 3, 3, 3)}, str(wrong))
    with pytest.raises(CheckpointError, match="layer1.0.conv1.weight"):
        create_backbone("resnet18", pretrained_path=wrong)
    unrelated = tmp_path / "unrelated.safetensors"
    save_file({"decoder.weight": torch.zeros(2)}, str(unrelated))
    with pytest.raises(CheckpointError, match="matches"):
        create_backbone("resnet18", pretrained_path=unrelated)
    pickle_file = tmp_path / "weights.pt"
    pickle_file.write_bytes(b"not read")
    with pytest.raises(CheckpointError, match="safetensors"):
        create_backbone("resnet18", pretrained_path=pickle_file)
