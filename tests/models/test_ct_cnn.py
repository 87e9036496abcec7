"""Tests for models.ct_cnn: every registered family on a tiny batch, meta, Grad-CAM layer, errors."""

from __future__ import annotations

import functools

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from core.errors import CheckpointError, ConfigError, InputError
from models.ct_cnn import create_model, list_models

# every registered family; "timm" is exercised through two small representative timm models
TIMM_VARIANTS = ["timm:efficientnet_b0", "timm:convnext_atto"]
ARCHITECTURES = [name for name in list_models() if name != "timm"] + TIMM_VARIANTS


@functools.cache
def cached_model(name: str) -> torch.nn.Module:
    """One default-configured model per architecture, shared by the tests that only run it."""
    torch.manual_seed(0)
    return create_model(name, num_classes=5, in_chans=1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    image = torch.randn(2, 1, 64, 64)
    meta = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    return image, meta


def test_every_family_is_covered() -> None:
    families = {name.partition(":")[0] for name in ARCHITECTURES}
    assert families == set(list_models())
    assert {"resnet18", "late_fusion", "cbam", "drn_aspp", "hierarchical", "timm"} <= set(list_models())


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_forward_backward(name: str, batch) -> None:
    image, meta = batch
    model = cached_model(name).train()
    model.zero_grad(set_to_none=True)
    logits = model(image, meta)
    assert logits.shape == (2, 5)
    assert torch.isfinite(logits).all()
    F.cross_entropy(logits, torch.tensor([1, 4])).backward()
    for pname, param in model.named_parameters():
        assert param.grad is not None, f"{pname} gets no gradient"
        assert torch.isfinite(param.grad).all(), f"{pname} has a non-finite gradient"
    assert any(p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_target_layer_gives_a_gradcam_map(name: str, batch) -> None:
    """Hook target_layer like Grad-CAM does: a 4-D map whose gradient reaches the logits."""
    image, meta = batch
    model = cached_model(name).eval()
    model.zero_grad(set_to_none=True)
    layer = model.target_layer
    assert any(layer is m for m in model.modules())
    captured: dict[str, torch.Tensor] = {}

    def hook(_module, _inputs, output):
        captured["act"] = output
        output.register_hook(lambda grad: captured.__setitem__("grad", grad))

    handle = layer.register_forward_hook(hook)
    try:
        logits = model(image, meta)
        logits[:, 1].sum().backward()
    finally:
        handle.remove()
    act, grad = captured["act"], captured["grad"]
    assert act.ndim == 4 and act.shape[0] == 2
    assert grad.shape == act.shape
    assert grad.abs().sum() > 0


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_single_image_inference_any_size(name: str) -> None:
    model = cached_model(name).eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 1, 72, 96), torch.tensor([[1.0, 0.0]]))
    assert logits.shape == (1, 5)
    assert isinstance(model.default_input_size, int)


@pytest.mark.parametrize("name", ["resnet18", "late_fusion", "cbam", "drn_aspp", "hierarchical"])
def test_state_dict_round_trip(name: str, batch) -> None:
    """A checkpoint rebuilt from (architecture, model_kwargs) loads strictly and predicts the same."""
    image, meta = batch
    kwargs = {"dropout": 0.2}
    model = create_model(name, num_classes=5, **kwargs).eval()
    clone = create_model(name, num_classes=5, **kwargs).eval()
    clone.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(clone(image, meta), model(image, meta))


def test_named_timm_models_get_a_grayscale_stem() -> None:
    model = create_model("timm:convnext_tiny")
    first_conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.in_channels == 1
    assert model(torch.randn(1, 1, 64, 64)).shape == (1, 5)


@pytest.mark.parametrize("name", ["late_fusion", "compact"])
def test_meta_is_used_by_late_fusion_and_compact(batch, name) -> None:
    image, _ = batch
    image = image[:1].repeat(2, 1, 1, 1)
    metas = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    fusion = create_model(name).eval()
    plain = create_model("resnet18").eval()
    assert fusion.uses_meta and not plain.uses_meta
    assert not create_model("compact", use_meta=False).uses_meta
    with torch.no_grad():
        fused = fusion(image, metas)
        ignored = plain(image, metas)
        assert not torch.allclose(fused[0], fused[1])
        torch.testing.assert_close(ignored[0], ignored[1])
        torch.testing.assert_close(plain(image), ignored)  # meta optional for image-only models


def test_late_fusion_head_matches_seed() -> None:
    model = create_model("late_fusion")
    linears = [m for m in model.head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(514, 256), (256, 128), (128, 5)]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in model.head) == 2
    assert [m.p for m in model.head if isinstance(m, torch.nn.Dropout)] == [0.5, 0.25]


def test_bad_inputs_are_input_errors(batch) -> None:
    image, meta = batch
    fusion = create_model("late_fusion").eval()
    with pytest.raises(InputError, match="meta"):
        fusion(image)
    with pytest.raises(InputError, match="meta"):
        fusion(image, meta[:, :1])
    with pytest.raises(InputError, match=r"\[B, 1, H, W\]"):
        create_model("resnet18")(torch.randn(2, 3, 64, 64))


def test_hierarchical_combines_coarse_and_fine(batch) -> None:
    image, meta = batch
    model = create_model("hierarchical").eval()
    with torch.no_grad():
        out = model.forward_hierarchical(image, meta)
        torch.testing.assert_close(model(image, meta), out.logits)
    probs = out.logits.softmax(dim=1)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(2))
    defect = probs[:, [1, 3, 4]].sum(dim=1)  # cell_porosity, module_porosity, module_resin_overflow
    torch.testing.assert_close(defect, out.coarse_logits.softmax(dim=1)[:, 1])
    # within the defect group the fine head alone decides the ratios
    fine_defect = out.fine_logits[:, [1, 3, 4]].softmax(dim=1)
    torch.testing.assert_close(probs[:, [1, 3, 4]] / defect[:, None], fine_defect)
    assert model.coarse_targets(torch.tensor([0, 1, 2, 3, 4])).tolist() == [0, 1, 0, 1, 1]


def test_hierarchical_groups_validated() -> None:
    with pytest.raises(ConfigError, match="groups"):
        create_model("hierarchical", num_classes=4)
    with pytest.raises(ConfigError, match="groups"):
        create_model("hierarchical", num_classes=3, groups=[0, 2, 2])
    model = create_model("hierarchical", num_classes=4, groups=[0, 1, 1, 1])
    assert model(torch.randn(2, 1, 64, 64)).shape == (2, 4)


def test_drn_aspp_stride8() -> None:
    model = create_model("drn_aspp", output_stride=8, atrous_rates=(1, 2, 3)).eval()
    with torch.no_grad():
        features = model.forward_features(torch.randn(1, 1, 64, 64))
    assert features.shape == (1, 256, 8, 8)
    with pytest.raises(ConfigError, match="output_stride"):
        create_model("drn_aspp", output_stride=32)


def test_unknown_names_and_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="late_fusion") as info:
        create_model("vit_huge")
    assert "resnet18" in str(info.value)
    with pytest.raises(ConfigError, match="colour"):
        create_model("resnet18", colour="red")
    with pytest.raises(ConfigError, match="dropout"):
        create_model("cbam", dropout=1.5)
    with pytest.raises(ConfigError, match="not_a_timm_net"):
        create_model("timm:not_a_timm_net")
    with pytest.raises(ConfigError, match="variants"):
        create_model("resnet18:wide")


@pytest.mark.parametrize("name", ["resnet18", "late_fusion", "timm:resnet18"])
def test_missing_pretrained_file_is_a_checkpoint_error(name: str, tmp_path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        create_model(name, pretrained_path=tmp_path / "missing.safetensors")


def test_local_pretrained_round_trip_resnet_family(tmp_path) -> None:
    """Backbone weights saved from one family load into another (heads start fresh)."""
    source = create_model("resnet18")
    path = tmp_path / "backbone.safetensors"
    save_file(source.state_dict(), str(path))  # keys "backbone.*" and "head.*"
    target = create_model("cbam", pretrained_path=path)
    torch.testing.assert_close(target.backbone.layer4[1].conv2.weight, source.backbone.layer4[1].conv2.weight)
    torch.testing.assert_close(target.backbone.conv1.weight, source.backbone.conv1.weight)
    fresh = create_model("cbam")
    assert not torch.allclose(fresh.backbone.layer4[1].conv2.weight, source.backbone.layer4[1].conv2.weight)


def test_local_pretrained_round_trip_timm(tmp_path) -> None:
    """timm loads a local RGB ImageNet-style file, adapting the stem to one channel."""
    import timm

    source = timm.create_model("resnet18", num_classes=1000, in_chans=3)
    path = tmp_path / "resnet18_imagenet.safetensors"
    save_file(source.state_dict(), str(path))
    model = create_model("timm:resnet18", num_classes=5, pretrained_path=path)
    torch.testing.assert_close(model.model.layer3[0].conv1.weight, source.layer3[0].conv1.weight)
    torch.testing.assert_close(model.model.conv1.weight, source.conv1.weight.sum(dim=1, keepdim=True))
    assert model.model.fc.out_features == 5
