"""The shared Trainer on a toy task: learning, early stopping, outputs, schedules, errors."""

import json
from dataclasses import dataclass, field

import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook

from core.checkpoint import load_checkpoint
from core.errors import InspectorError
from training.config import SchedulerConfig, TrainConfig, apply_overrides
from training.loop import EarlyStopping, Trainer, build_scheduler, make_generator, seed_everything
from training.tasks import Task


class ToyTask(Task):
    """Linear classifier on two blobs; ``scores`` forces the monitored metric per epoch."""

    name = "toy"
    monitor = ("accuracy", "max")

    def __init__(self, scores=None):
        self.model = nn.Linear(2, 2)
        self.scores = list(scores) if scores is not None else None
        self.progress = []

    def training_step(self, batch, epoch_progress):
        self.progress.append(epoch_progress)
        loss = nn.functional.cross_entropy(self.model(batch["image"]), batch["label"])
        return {"loss": loss, "extra": torch.tensor(1.0)}

    def validation_step(self, batch):
        return {"pred": self.model(batch["image"]).argmax(1), "label": batch["label"]}

    def validation_end(self, outputs):
        pred = torch.cat([o["pred"] for o in outputs])
        label = torch.cat([o["label"] for o in outputs])
        acc = (pred == label).float().mean().item()
        if self.scores is not None:
            acc = self.scores.pop(0)
        return {"accuracy": acc}

    def card(self):
        return {"task": "toy", "architecture": "linear", "model_kwargs": {}, "class_names": ["a", "b"]}


def _loader(n=64, batch_size=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    label = torch.randint(0, 2, (n,), generator=g)
    image = torch.randn(n, 2, generator=g) * 0.3 + (label.float() * 2 - 1).unsqueeze(1)
    data = [
        {"image": image[i : i + batch_size], "label": label[i : i + batch_size]}
        for i in range(0, n, batch_size)
    ]
    return data


@dataclass
class _Wrapper:  # apply_overrides validates dotted keys against any dataclass with a train section
    train: TrainConfig = field(default_factory=TrainConfig)


def _config(**overrides):
    base = {"train.tensorboard": False, "train.scheduler.warmup_epochs": 0.0, "train.lr": 0.05}
    return apply_overrides(_Wrapper(), {**base, **overrides}).train


def test_trainer_learns_and_writes_run_outputs(tmp_path):
    seed_everything(0)
    task = ToyTask()
    summary = Trainer(task, _config(**{"train.epochs": 3}), tmp_path, resolved_config=_Wrapper()).fit(
        _loader(), _loader(seed=1)
    )
    assert summary.best_metric > 0.9
    for name in (
        "best.safetensors",
        "best.json",
        "last.safetensors",
        "last.json",
        "config.yaml",
        "train.log",
    ):
        assert (tmp_path / name).is_file(), name
    history = json.loads((tmp_path / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert {"train_loss", "train_extra", "val_accuracy", "lr", "images_per_s"} <= set(history[0])
    _, card = load_checkpoint(tmp_path / "best", task="toy")
    assert card["metrics"]["epoch"] == summary.best_epoch
    assert card["metrics"]["val"]["accuracy"] == summary.best_metric
    assert card["seed"] == 0
    assert "training toy" in (tmp_path / "train.log").read_text()
    # epoch_progress covers [0, 1) across the run
    assert task.progress[0] == 0.0 and 0.9 < task.progress[-1] < 1.0


def test_early_stopping_stops_after_patience(tmp_path):
    scores = [0.5, 0.6, 0.6005, 0.55, 0.59, 0.9, 0.9]
    cfg = _config(
        **{"train.epochs": 7, "train.early_stopping.patience": 3, "train.early_stopping.min_delta": 0.01}
    )
    summary = Trainer(ToyTask(scores), cfg, tmp_path).fit(_loader(), _loader())
    # best 0.6 at epoch 2; 0.6005 is within min_delta, so epochs 3-5 are bad -> stop after 5
    assert summary.stopped_early and summary.epochs_run == 5
    assert (summary.best_epoch, summary.best_metric) == (2, 0.6)


def test_early_stopping_can_be_disabled(tmp_path):
    cfg = _config(
        **{"train.epochs": 4, "train.early_stopping.enabled": False, "train.early_stopping.patience": 1}
    )
    summary = Trainer(ToyTask([0.9, 0.1, 0.1, 0.1]), cfg, tmp_path).fit(_loader(), _loader())
    assert summary.epochs_run == 4 and not summary.stopped_early


def test_early_stopping_min_mode():
    stopper = EarlyStopping(patience=2, min_delta=0.1, mode="min")
    assert stopper.step(1.0) and not stopper.step(0.95) and stopper.step(0.8)
    assert (
        not stopper.step(0.8) and not stopper.should_stop and not stopper.step(0.75) and stopper.should_stop
    )


def test_max_steps_per_epoch_caps_batches(tmp_path):
    task = ToyTask()
    Trainer(task, _config(**{"train.epochs": 2, "train.max_steps_per_epoch": 2}), tmp_path).fit(
        _loader(), _loader()
    )
    assert len(task.progress) == 4


def test_divergence_and_missing_monitor_are_user_errors(tmp_path):
    class Bad(ToyTask):
        def training_step(self, batch, epoch_progress):
            return {"loss": self.model(batch["image"]).sum() * float("nan")}

    with pytest.raises(InspectorError, match="training diverged"):
        Trainer(Bad(), _config(**{"train.epochs": 1}), tmp_path).fit(_loader(), _loader())

    class NoMonitor(ToyTask):
        monitor = ("macro_f1", "max")

    with pytest.raises(InspectorError, match="'macro_f1' is not among the validation metrics"):
        Trainer(NoMonitor(), _config(**{"train.epochs": 1}), tmp_path).fit(_loader(), _loader())


def test_gradient_clipping_bounds_the_update(tmp_path):
    class Huge(ToyTask):
        def training_step(self, batch, epoch_progress):
            return {"loss": self.model(batch["image"]).sum() * 1e6}

    task = Huge()
    norms: list[float] = []

    def record(optimizer, args, kwargs):  # runs after clipping, right before the update
        grads = [p.grad for p in task.model.parameters() if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))

    handle = register_optimizer_step_pre_hook(record)
    try:
        cfg = _config(
            **{"train.epochs": 1, "train.max_steps_per_epoch": 2, "train.grad_clip": 1.0, "train.lr": 0.1}
        )
        Trainer(task, cfg, tmp_path).fit(_loader(), _loader())
    finally:
        handle.remove()
    # the loss is scaled by 1e6, so unclipped gradients have a norm far above 1
    assert norms and max(norms) <= 1.0 + 1e-4
    assert torch.isfinite(task.model.weight).all()


def test_warmup_then_cosine_restarts():
    opt = torch.optim.AdamW([nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = build_scheduler(opt, SchedulerConfig(warmup_epochs=1, t_0=2, t_mult=1, eta_min=0.0), 4, 10)
    lrs = []
    for _ in range(16):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.2)  # warm-up starts at 1/(warmup+1)
    assert lrs[:5] == sorted(lrs[:5])  # ramps up over the first epoch
    assert lrs[4] == pytest.approx(1.0)  # cosine cycle starts at the base rate
    assert lrs[11] < 0.1 and lrs[12] == pytest.approx(1.0)  # restart after t_0 = 2 epochs


def test_seeded_generators_are_reproducible():
    a = torch.randperm(10, generator=make_generator(3))
    b = torch.randperm(10, generator=make_generator(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize("native", [True, False])
def test_cpu_bf16_only_where_the_cpu_has_it(tmp_path, monkeypatch, native):
    import training.loop as loop

    monkeypatch.setattr(loop, "cpu_has_native_bf16", lambda: native)
    trainer = Trainer(ToyTask([0.5]), _config(**{"train.cpu_bf16": True}), tmp_path)
    assert trainer.use_autocast is native
    assert Trainer(ToyTask([0.5]), _config(), tmp_path).use_autocast is False
