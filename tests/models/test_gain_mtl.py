"""GAIN-MTL network: shapes, the CAM/decision link, attention normalisation, erasing."""

from __future__ import annotations

import pytest
import torch

from core.errors import ConfigError
from models.gain_mtl import (
    AttentionMining,
    CAMClassifier,
    GainMTL,
    create_encoder,
    defect_evidence,
    dilate,
    inpaint,
    normalise_attention,
)

TINY = dict(encoder_width=8, decoder_channels=8, detail_channels=4)


@pytest.mark.parametrize("decoder_stride", [1, 2, 4])
def test_forward_shapes_follow_decoder_stride(decoder_stride: int) -> None:
    model = GainMTL(decoder_stride=decoder_stride, **TINY)
    out = model(torch.randn(2, 1, 64, 64))
    side = 64 // decoder_stride
    assert out["logits"].shape == (2, 1)
    assert out["cam"].shape == (2, 1, side, side)
    assert out["loc"].shape == (2, 1, side, side)
    assert model.attention(out, (64, 64)).shape == (2, 1, 64, 64)
    assert model.localisation(out, (64, 64)).shape == (2, 1, 64, 64)


def test_standard_width_uses_shared_resnet18_trunk() -> None:
    from models.backbones import ResNetFeatures

    encoder = create_encoder("resnet18", in_chans=1, output_stride=16)
    assert isinstance(encoder, ResNetFeatures)
    half = create_encoder("resnet18", width=16)
    assert half.channels == [16, 32, 64, 128]
    maps = half(torch.randn(1, 1, 64, 64))
    assert [m.shape[-1] for m in maps] == [16, 8, 4, 2]


def test_unknown_encoder_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        create_encoder("no_such_net")


def test_avg_pooled_logit_is_the_mean_of_the_cam() -> None:
    head = CAMClassifier(4, 1, pool="avg")
    logits, cam = head(torch.randn(3, 4, 5, 5))
    torch.testing.assert_close(logits[:, 0], cam.flatten(1).mean(1))


def test_lse_pooling_lies_between_mean_and_max() -> None:
    head = CAMClassifier(4, 1, pool="lse", lse_r=1.0)
    logits, cam = head(torch.randn(3, 4, 6, 6) * 3)
    flat = cam.flatten(1)
    assert torch.all(logits[:, 0] >= flat.mean(1) - 1e-5)
    assert torch.all(logits[:, 0] <= flat.amax(1) + 1e-5)


def test_two_class_evidence_is_the_difference_of_class_maps() -> None:
    cam = torch.randn(2, 2, 4, 4)
    torch.testing.assert_close(defect_evidence(cam, target=1), cam[:, 1:2] - cam[:, 0:1])
    assert defect_evidence(cam[:, :1]) is not None


def test_attention_is_minmax_of_positive_evidence() -> None:
    evidence = torch.full((2, 1, 4, 4), -3.0)
    evidence[0, 0, 1, 1] = 2.0
    evidence[0, 0, 2, 2] = 1.0
    att = normalise_attention(evidence)
    assert att[0, 0, 1, 1] == pytest.approx(1.0)
    assert att[0, 0, 2, 2] == pytest.approx(0.5, abs=1e-4)
    assert att[0].min() == 0
    assert torch.all(att[1] == 0)  # no positive evidence: empty attention


def test_single_logit_model_defect_logit() -> None:
    model = GainMTL(**TINY)
    out = model(torch.randn(2, 1, 32, 32))
    torch.testing.assert_close(model.defect_logit(out), out["logits"][:, 0])
    two = GainMTL(num_classes=2, **TINY)
    out2 = two(torch.randn(2, 1, 32, 32))
    torch.testing.assert_close(two.defect_logit(out2), out2["logits"][:, 1] - out2["logits"][:, 0])


def test_inpaint_fills_from_surroundings_and_keeps_the_rest() -> None:
    image = torch.full((1, 1, 16, 16), 0.8)
    image[..., 6:9, 6:9] = 0.0  # a dark "void"
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 6:9, 6:9] = 1.0
    filled = inpaint(image, mask, kernel_size=7)
    torch.testing.assert_close(filled[..., 6:9, 6:9], torch.full((1, 1, 3, 3), 0.8))
    torch.testing.assert_close(filled * (1 - mask), image * (1 - mask))


def test_inpaint_falls_back_to_global_mean_without_support() -> None:
    image = torch.rand(1, 1, 12, 12)
    mask = torch.zeros(1, 1, 12, 12)
    mask[..., :, :8] = 1.0
    filled = inpaint(image, mask, kernel_size=3)
    known_mean = image[..., :, 8:].mean()
    assert filled[0, 0, 5, 0] == pytest.approx(float(known_mean), abs=1e-5)


def test_dilate_grows_a_pixel_to_a_square() -> None:
    mask = torch.zeros(1, 1, 7, 7)
    mask[..., 3, 3] = 1
    assert dilate(mask, 1).sum() == 9
    assert dilate(mask, 0).sum() == 1


def test_attention_mining_soft_mask_and_erase() -> None:
    mining = AttentionMining(omega=10, sigma=0.5, fill_kernel=5)
    att = torch.tensor([0.0, 0.5, 1.0]).view(1, 1, 1, 3)
    torch.testing.assert_close(mining.soft_mask(att)[0, 0, 0, 1], torch.tensor(0.5))
    assert mining.soft_mask(att)[0, 0, 0, 2] > 0.99
    image = torch.ones(1, 1, 8, 8)
    erased = mining(image, torch.zeros(1, 1, 8, 8))
    torch.testing.assert_close(erased, image, atol=1e-2, rtol=0)


def test_cam_is_differentiable_end_to_end() -> None:
    model = GainMTL(**TINY)
    out = model(torch.randn(2, 1, 32, 32))
    model.attention(out, (32, 32)).sum().backward()
    assert model.encoder.net.conv1.weight.grad is not None
