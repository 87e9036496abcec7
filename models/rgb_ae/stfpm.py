"""``stfpm``: anomalib's STFPM (a student network learns to mimic the backbone on normal photos)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import torch

from models.rgb_ae._features import FeatureDetector, Progress
from models.rgb_ae.registry import register_model

__all__ = ["STFPMDetector", "stfpm"]


def _offline_stfpm(backbone: str, layers: list[str]) -> torch.nn.Module:
    """anomalib's ``STFPMModel`` with the teacher built ``pre_trained=False`` (its constructor asks the hub).

    Everything else (forward, anomaly map generator, loss) is anomalib's; the teacher gets its
    weights from :meth:`FeatureDetector.load_backbone_weights` or from the checkpoint.
    """
    from anomalib.models.components import TimmFeatureExtractor
    from anomalib.models.image.stfpm.anomaly_map import AnomalyMapGenerator
    from anomalib.models.image.stfpm.torch_model import STFPMModel

    class OfflineSTFPM(STFPMModel):
        def __init__(self) -> None:  # noqa: D107 - same attributes as STFPMModel.__init__
            torch.nn.Module.__init__(self)
            self.tiler = None
            self.backbone = backbone
            self.teacher_model = TimmFeatureExtractor(backbone=backbone, pre_trained=False, layers=layers).eval()
            self.student_model = TimmFeatureExtractor(
                backbone=backbone, pre_trained=False, layers=layers, requires_grad=True
            )
            for parameter in self.teacher_model.parameters():
                parameter.requires_grad = False
            self.anomaly_map_generator = AnomalyMapGenerator()

    return OfflineSTFPM()


class STFPMDetector(FeatureDetector):
    """Wang et al. 2021 (student-teacher feature pyramid matching) through anomalib.

    Args:
        backbone: timm model name of teacher and student.
        layers: Matched stages.
        epochs: Upper bound of student training passes over the normals.
        max_seconds: Stop student training after this many seconds (one fit).
        lr: Adam learning rate of the student.
    """

    fit_preset = {"folds": 3, "input_size": 160, "batch_size": 16}

    def __init__(
        self,
        backbone: str = "resnet18",
        layers: Sequence[str] = ("layer1", "layer2", "layer3"),
        epochs: int = 20,
        max_seconds: float = 30.0,
        lr: float = 1e-3,
    ) -> None:
        super().__init__()
        self.epochs, self.max_seconds, self.lr = int(epochs), float(max_seconds), float(lr)
        self.model = _offline_stfpm(backbone, list(layers))
        self.revive_residuals()

    def extractors(self) -> list[torch.nn.Module]:
        """Only the teacher takes pretrained weights; the student starts from scratch."""
        return [self.model.teacher_model.feature_extractor]

    def fit(self, batches: Iterable[torch.Tensor], progress: Progress | None = None) -> None:
        """Train the student to match the teacher's normalised features (anomalib's ``STFPMLoss``)."""
        from anomalib.models.image.stfpm.loss import STFPMLoss

        data = list(batches)
        loss_fn = STFPMLoss()
        opt = torch.optim.Adam(self.model.student_model.parameters(), lr=self.lr)
        self.model.train()
        self.model.teacher_model.eval()
        start = time.monotonic()
        for epoch in range(self.epochs):
            for batch in data:
                teacher, student = self.model(batch)
                loss = loss_fn(teacher, student)
                opt.zero_grad()
                loss.backward()
                opt.step()
            if progress:
                progress((epoch + 1) / self.epochs, f"student epoch {epoch + 1}")
            if time.monotonic() - start > self.max_seconds:
                break
        self.model.eval()


@register_model("stfpm")
def stfpm(
    backbone: str = "resnet18",
    layers: Sequence[str] = ("layer1", "layer2", "layer3"),
    epochs: int = 20,
    max_seconds: float = 30.0,
    lr: float = 1e-3,
) -> STFPMDetector:
    """STFPM (anomalib): distance between a teacher's features and a student trained on normals."""
    return STFPMDetector(backbone, layers, epochs, max_seconds, lr)
