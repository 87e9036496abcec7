"""Tests for models.rgb_ae: shapes, gradients, registry and the seed layout."""

from __future__ import annotations

import pytest
import torch

from core.errors import ConfigError
from models.rgb_ae import ConvAutoEncoder, create_model, list_models


def test_registry_lists_both_variants():
    assert {"conv_ae", "conv_ae_compact"} <= set(list_models())


@pytest.mark.parametrize("name", ["conv_ae", "conv_ae_compact"])
def test_forward_backward_shapes(name):
    torch.manual_seed(0)
    model = create_model(name)
    x = torch.rand(2, 3, 32, 48)
    y = model(x)
    assert y.shape == x.shape
    assert 0.0 <= float(y.detach().min()) and float(y.detach().max()) <= 1.0  # sigmoid output
    torch.nn.functional.mse_loss(y, x).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)


def test_seed_layout_encoder_widths_and_latent():
    model = create_model("conv_ae")
    assert model.channels == (64, 128, 256, 512)
    z = model.encode(torch.rand(1, 3, 64, 64))
    assert z.shape == (1, 512, 4, 4)  # 64 / 2**4
    assert isinstance(model.bottleneck, torch.nn.Identity) and not model.skip


def test_compact_bottleneck_and_size():
    full, compact = create_model("conv_ae"), create_model("conv_ae_compact")
    squeeze = compact.bottleneck[0][0]
    assert isinstance(squeeze, torch.nn.Conv2d) and squeeze.out_channels == 64  # 1x1 latent of 64 channels
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(compact) * 3 < n(full)


def test_input_not_multiple_of_downsample_factor():
    with pytest.raises(ValueError, match="multiple of 16"):
        ConvAutoEncoder()(torch.rand(1, 3, 30, 32))


def test_unknown_name_and_option_are_config_errors():
    with pytest.raises(ConfigError, match="unknown RGB autoencoder"):
        create_model("nope")
    with pytest.raises(ConfigError, match="does not accept"):
        create_model("conv_ae", width=3)
    with pytest.raises(ConfigError):
        create_model("conv_ae", channels=[])


def test_depth_adds_convs_without_changing_shapes():
    model = create_model("conv_ae_compact", depth=2)
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 3, 32, 32)
    n_conv = sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    base = sum(isinstance(m, torch.nn.Conv2d) for m in create_model("conv_ae_compact").modules())
    assert n_conv == base + 8  # one extra conv in each of 4 encoder and 4 decoder stages


def test_skip_connections_carry_detail_past_the_bottleneck():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    plain = create_model("conv_ae_compact", latent_channels=1).eval()
    skipped = create_model("conv_ae_compact", latent_channels=1, skip=True).eval()
    skipped.load_state_dict(plain.state_dict())  # same weights: only the wiring differs
    assert skipped(x).shape == x.shape
    assert not torch.allclose(skipped(x), plain(x))
    # with skips, a change in one corner reaches the output through the shallow stages
    y = x.detach().clone()
    y[:, :, :4, :4] += 0.5
    diff_plain = (plain(y) - plain(x)).abs()[:, :, :8, :8].sum()
    diff_skip = (skipped(y) - skipped(x)).abs()[:, :, :8, :8].sum()
    assert diff_skip > diff_plain


def test_draem_reconstructs_and_maps_at_full_resolution():
    torch.manual_seed(0)
    model = create_model("draem", channels=[8, 16], head_channels=[8, 16])
    x = torch.rand(2, 3, 32, 32)
    reconstruction = model(x)
    assert reconstruction.shape == x.shape
    logits = model.segment(x, reconstruction)
    assert logits.shape == (2, 1, 32, 32)
    amap = model.anomaly_map(x)
    amap = amap.detach()
    assert amap.shape == (2, 32, 32) and 0.0 <= float(amap.min()) and float(amap.max()) <= 1.0
    (reconstruction.mean() + logits.mean()).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_draem_head_options_are_validated():
    with pytest.raises(ConfigError):
        create_model("draem", head_channels=[])


def test_draem_fast_head_runs_at_half_resolution_and_can_ignore_the_reconstruction():
    torch.manual_seed(0)
    model = create_model(
        "draem_fast", channels=[8, 16], latent_channels=8, head_channels=[8, 16], head_input="image"
    ).eval()
    assert model.downsample_factor == 8  # stride-2 stem x two stride-2 stages
    x = torch.rand(2, 3, 32, 32)
    amap = model.anomaly_map(x)
    assert amap.shape == (2, 32, 32)
    # with head_input="image" the map depends on the image only, not on the reconstruction
    logits_a = model.segment(x, torch.zeros_like(x))
    logits_b = model.segment(x, torch.ones_like(x))
    assert torch.equal(logits_a, logits_b)
    both = create_model("draem_fast", channels=[8, 16], head_channels=[8, 16]).eval()
    assert not torch.equal(both.segment(x, torch.zeros_like(x)), both.segment(x, torch.ones_like(x)))
    with pytest.raises(ConfigError):
        create_model("draem_fast", head_input="reconstruction")
    with pytest.raises(ConfigError):
        create_model("draem_fast", head_stem_stride=3)
