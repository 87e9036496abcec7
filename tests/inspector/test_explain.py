"""Every explainer on tiny models: known answers, agreement with pytorch-grad-cam, overlays."""

import threading

import numpy as np
import pytest
import torch
from torch import nn

from core.errors import ConfigError
from inspector.drawing import draw_boxes, overlay_heatmap
from inspector.explain import create_explainer, list_explainers
from inspector.explain.base import Explainer, register_explainer

CAM_METHODS = ["gradcam", "gradcam_pp", "layercam"]


class BlobModel(nn.Module):
    """Class 0 scores bright pixels, class 1 dark ones; the target layer keeps full resolution."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Conv2d(1, 2, kernel_size=1, bias=False)
        with torch.no_grad():
            self.features.weight[:] = torch.tensor([1.0, -1.0]).view(2, 1, 1, 1)
        self.target_layer = self.features
        self.head = nn.Linear(2, 2, bias=False)
        with torch.no_grad():
            self.head.weight[:] = torch.eye(2)

    def forward(self, image: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        feats = torch.relu(self.features(image))
        return self.head(feats.mean(dim=(2, 3)))


class TinyCNN(nn.Module):
    """A small random CNN with metadata, like the CT models (target layer at half resolution)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.target_layer = self.block
        self.fc = nn.Linear(16 + 2, 5)

    def forward(self, image: torch.Tensor, meta: torch.Tensor) -> torch.Tensor:
        pooled = self.block(self.stem(image)).mean(dim=(2, 3))
        return self.fc(torch.cat([pooled, meta], dim=1))


def _blob_image() -> torch.Tensor:
    image = torch.full((1, 32, 32), 0.1)
    image[0, 20:26, 4:12] = 1.0
    return image


def test_registry_lists_every_method_and_rejects_unknown_names():
    assert set(CAM_METHODS) <= set(list_explainers())
    with pytest.raises(ConfigError, match="unknown explainer"):
        create_explainer("no_such_method")


@pytest.mark.parametrize("method", CAM_METHODS)
def test_cam_peaks_on_the_evidence_for_the_explained_class(method):
    explanation = create_explainer(method).run(BlobModel().eval(), _blob_image(), target=0)
    heat = explanation.heatmap
    assert heat.shape == (32, 32) and heat.dtype == np.float32
    assert heat.min() == pytest.approx(0.0) and heat.max() == pytest.approx(1.0)
    assert heat[20:26, 4:12].mean() > 0.99 and heat[:16].max() < 0.2
    assert explanation.target == 0 and explanation.logits.shape == (2,)


@pytest.mark.parametrize("method", CAM_METHODS)
def test_default_target_is_the_predicted_class_and_meta_is_passed(method):
    model = TinyCNN().eval()
    image, meta = torch.rand(1, 24, 40), torch.tensor([1.0, 0.0])
    explanation = create_explainer(method).run(model, image, meta)
    with torch.no_grad():
        expected = model(image[None], meta[None])[0]
    assert explanation.target == int(expected.argmax())
    torch.testing.assert_close(explanation.logits, expected)
    assert explanation.heatmap.shape == (24, 40)
    assert 0.0 <= explanation.heatmap.min() and explanation.heatmap.max() <= 1.0


@pytest.mark.parametrize(("method", "reference"), [("gradcam", "GradCAM"), ("gradcam_pp", "GradCAMPlusPlus")])
def test_cam_matches_pytorch_grad_cam(method, reference):
    pytorch_grad_cam = pytest.importorskip("pytorch_grad_cam")
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    torch.manual_seed(1)
    # A flattening head gives gradients of order 1, so pytorch-grad-cam's eps=1e-6 is negligible.
    head = nn.Linear(8 * 16 * 16, 3)
    nn.init.normal_(head.weight, std=1.0)
    model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 8, 3, padding=1))
    model = nn.Sequential(model, nn.ReLU(), nn.Flatten(), head).eval()
    layer = model[0][2]
    image = torch.rand(1, 1, 16, 16)
    ours = create_explainer(method, target_layer="0.2").explain(model, image, target=2)
    with getattr(pytorch_grad_cam, reference)(model=model, target_layers=[layer]) as cam:
        theirs = cam(input_tensor=image, targets=[ClassifierOutputTarget(2)])[0]
    np.testing.assert_allclose(ours, theirs, atol=1e-3)


def test_missing_target_layer_is_a_clear_error():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.LazyLinear(2))
    with pytest.raises(ConfigError, match="target_layer"):
        create_explainer("gradcam").explain(model, torch.rand(1, 8, 8))


def test_a_new_method_only_overrides_compute():
    @register_explainer("test_mean_input")
    class MeanInput(Explainer):
        def compute(self, model, image, meta, target):
            logits = self.forward(model, image, meta)
            return image.mean(dim=1, keepdim=True), logits, 0

    heat = create_explainer("test_mean_input").explain(BlobModel(), _blob_image())
    assert heat[22, 6] == pytest.approx(1.0) and heat[0, 0] == pytest.approx(0.0)


def test_concurrent_explanations_are_independent():
    model = TinyCNN().eval()
    explainer = create_explainer("gradcam")
    images = [torch.rand(1, 32, 32, generator=torch.Generator().manual_seed(i)) for i in range(4)]
    meta = torch.tensor([0.0, 1.0])
    expected = [explainer.explain(model, im, meta) for im in images]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(3):
            results[i] = explainer.explain(model, images[i], meta)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        np.testing.assert_allclose(results[i], expected[i], atol=1e-6)


def test_overlay_and_boxes_give_uint8_rgb_at_image_size():
    gray16 = (np.linspace(0, 65535, 40 * 30).reshape(30, 40)).astype(np.uint16)
    heat = np.zeros((15, 20), dtype=np.float32)
    heat[5:10, 5:10] = 1.0
    over = overlay_heatmap(gray16, heat, alpha=0.5)
    assert over.shape == (30, 40, 3) and over.dtype == np.uint8
    assert not np.array_equal(over[15, 15], over[0, 39])  # the hot region is coloured
    drawn = draw_boxes(
        np.zeros((30, 40, 3), np.uint8), [{"label": "", "box": [2, 3, 10, 8]}], (255, 48, 48), width=1, min_side=0
    )
    assert drawn.shape == (30, 40, 3) and drawn.dtype == np.uint8 and tuple(drawn[3, 2]) == (255, 48, 48)
    assert tuple(drawn[20, 30]) == (0, 0, 0)
