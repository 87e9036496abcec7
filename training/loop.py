"""The one training loop every task uses.

:class:`Trainer` runs a :class:`training.tasks.Task` with AdamW, a linear warm-up followed by
``CosineAnnealingWarmRestarts`` (or another schedule from the config), gradient clipping,
AMP on CUDA, early stopping on the task's monitored metric, a progress bar, TensorBoard and
per-run outputs::

    out_dir/
      best.safetensors  best.json    # best epoch by the monitor (contract checkpoint format)
      last.safetensors  last.json
      config.yaml                    # the resolved config (when given)
      history.json                   # one entry per epoch
      train.log  tb/                 # text log and TensorBoard events

Example::

    seed_everything(config.train.seed)
    trainer = Trainer(task, config.train, out_dir, resolved_config=config)
    summary = trainer.fit(train_loader, val_loader)
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    LambdaLR,
    LinearLR,
    LRScheduler,
    SequentialLR,
)

from core.checkpoint import save_checkpoint
from core.errors import InspectorError
from training.config import SchedulerConfig, TrainConfig, save_config
from training.tasks import Task

log = logging.getLogger(__name__)

__all__ = [
    "EarlyStopping",
    "FitSummary",
    "Trainer",
    "build_scheduler",
    "make_generator",
    "seed_everything",
    "seed_worker",
]


# --------------------------------------------------------------------------- seeding


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed the global random generators of this process: Python's ``random`` (``seed``), NumPy's
    legacy global generator (``np.random.seed(seed % 2**32)``) and torch's default generator on
    the CPU and every CUDA device (``torch.manual_seed``).

    Not seeded here: DataLoader shuffling and samplers (pass :func:`make_generator`), DataLoader
    worker processes (:func:`seed_worker`), and Python's ``str``/``bytes`` hashing, which is fixed
    when the interpreter starts (``PYTHONHASHSEED``); no training result depends on it.

    Args:
        seed: The seed.
        deterministic: Also ask torch for deterministic kernels (``torch.use_deterministic_algorithms``,
            warning where impossible) and turn off the cuDNN autotuner. Slower.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def make_generator(seed: int) -> torch.Generator:
    """A seeded generator for ``DataLoader(generator=...)`` and samplers: reproducible shuffling."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def seed_worker(worker_id: int) -> None:
    """``DataLoader(worker_init_fn=seed_worker)``: derive numpy/random seeds from torch's."""
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


# --------------------------------------------------------------------------- early stopping


class EarlyStopping:
    """Track a metric and say when it has stopped improving.

    Args:
        patience: Epochs without improvement before stopping.
        min_delta: Smallest change that counts as an improvement.
        mode: ``"max"`` (higher is better) or ``"min"``.
    """

    def __init__(self, patience: int, min_delta: float = 0.0, mode: str = "max") -> None:
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.best: float | None = None
        self.bad_epochs = 0

    def is_improvement(self, value: float) -> bool:
        """Whether ``value`` beats the best so far by more than ``min_delta``."""
        if self.best is None:
            return not math.isnan(value)
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def step(self, value: float) -> bool:
        """Record one epoch's value; return ``True`` if it is a new best."""
        if self.is_improvement(value):
            self.best = value
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        """``True`` once ``patience`` epochs in a row brought no improvement."""
        return self.bad_epochs >= self.patience


# --------------------------------------------------------------------------- schedules


def build_scheduler(
    optimizer: torch.optim.Optimizer, cfg: SchedulerConfig, steps_per_epoch: int, epochs: int
) -> LRScheduler:
    """Warm-up then the configured schedule, stepped once per optimiser step.

    Args:
        optimizer: The optimiser whose learning rate is scheduled.
        cfg: The ``train.scheduler`` config (``t_0`` and ``warmup_epochs`` in epochs).
        steps_per_epoch: Optimiser steps per epoch.
        epochs: Planned number of epochs.

    Returns:
        A scheduler to call ``.step()`` on after every optimiser step.
    """
    total = max(1, steps_per_epoch * epochs)
    warmup = min(int(round(cfg.warmup_epochs * steps_per_epoch)), total - 1)
    if cfg.name == "cosine_restarts":
        main: LRScheduler = CosineAnnealingWarmRestarts(
            optimizer, T_0=max(1, cfg.t_0 * steps_per_epoch), T_mult=cfg.t_mult, eta_min=cfg.eta_min
        )
    elif cfg.name == "cosine":
        main = CosineAnnealingLR(optimizer, T_max=max(1, total - warmup), eta_min=cfg.eta_min)
    else:
        main = LambdaLR(optimizer, lambda step: 1.0)
    if warmup <= 0:
        return main
    ramp = LinearLR(optimizer, start_factor=1.0 / (warmup + 1), end_factor=1.0, total_iters=warmup)
    return SequentialLR(optimizer, [ramp, main], milestones=[warmup])


# --------------------------------------------------------------------------- helpers


def _to_device(
    batch: Any, device: torch.device, memory_format: torch.memory_format = torch.preserve_format
) -> Any:
    if isinstance(batch, torch.Tensor):
        batch = batch.to(device, non_blocking=True)
        if batch.ndim == 4 and memory_format is not torch.preserve_format:
            batch = batch.contiguous(memory_format=memory_format)
        return batch
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device, memory_format) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device, memory_format) for v in batch)
    return batch


def _batch_len(batch: Any) -> int:
    if isinstance(batch, Mapping):
        batch = batch.get("image", next(iter(batch.values()), None))
    if isinstance(batch, (list, tuple)):
        batch = batch[0] if batch else None
    return int(batch.shape[0]) if isinstance(batch, torch.Tensor) and batch.ndim else 1


def _scalar(value: Any) -> float | None:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def cpu_has_native_bf16() -> bool:
    """Whether the CPU computes bfloat16 natively (Linux ``/proc/cpuinfo`` flags; elsewhere ``False``)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="ignore")
    except OSError:
        return False
    return any(flag in flags for flag in ("avx512_bf16", "amx_bf16"))


def _resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise InspectorError("train.device is 'cuda' but no CUDA device is available")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def _progress(iterable: Iterable, total: int | None, desc: str, enabled: bool) -> Iterable:
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)


@dataclass
class FitSummary:
    """What :meth:`Trainer.fit` returns."""

    best_epoch: int | None
    best_metric: float | None
    monitor: str
    epochs_run: int
    stopped_early: bool
    history: list[dict[str, float]] = field(default_factory=list)
    best_path: Path | None = None
    last_path: Path | None = None


# --------------------------------------------------------------------------- trainer


class Trainer:
    """Run a task's training with the settings of a :class:`~training.config.TrainConfig`.

    Args:
        task: The task (model + loss + what a batch means).
        config: The ``train`` section of the task's config.
        out_dir: Run folder; created if missing.
        resolved_config: The full config dataclass, written to ``out_dir/config.yaml``.
    """

    def __init__(
        self,
        task: Task,
        config: TrainConfig,
        out_dir: str | Path,
        resolved_config: Any | None = None,
    ) -> None:
        self.task = task
        self.config = config
        self.out_dir = Path(out_dir)
        self.resolved_config = resolved_config
        self.device = _resolve_device(config.device)
        self.use_amp = bool(config.amp and self.device.type == "cuda")
        self.autocast_dtype = torch.float16 if self.use_amp else torch.bfloat16
        cpu_bf16 = bool(config.cpu_bf16 and self.device.type == "cpu")
        if cpu_bf16 and not cpu_has_native_bf16():
            # Emulated bfloat16 ran 12x slower than float32 on an AVX2-only CPU (one step of the
            # compact CT model: 98 s vs 8 s), so the option only applies where the CPU has it.
            log.warning("train.cpu_bf16 ignored: this CPU has no native bfloat16 (avx512_bf16/amx_bf16)")
            cpu_bf16 = False
        self.use_autocast = self.use_amp or cpu_bf16
        self.memory_format = torch.channels_last if config.channels_last else torch.preserve_format
        monitor, mode = task.monitor
        self.monitor = config.early_stopping.monitor or monitor
        self.mode = config.early_stopping.mode or (mode if self.monitor == monitor else "max")
        self.history: list[dict[str, float]] = []
        self.global_step = 0

    # ------------------------------------------------------------------ public

    def fit(self, train_loader: Iterable, val_loader: Iterable) -> FitSummary:
        """Train for ``config.epochs`` epochs or until early stopping.

        Args:
            train_loader: Iterable of training batches (dicts of tensors).
            val_loader: Iterable of validation batches.

        Returns:
            A :class:`FitSummary` (best epoch, monitor value, history, checkpoint paths).
        """
        cfg = self.config
        self.out_dir.mkdir(parents=True, exist_ok=True)
        root = logging.getLogger()
        saved_level, saved_threads = root.level, torch.get_num_threads()
        handler = self._attach_log_file()
        writer = self._open_tensorboard()
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)
        try:
            return self._fit(train_loader, val_loader, writer)
        finally:
            if writer is not None:
                writer.close()
            root.removeHandler(handler)
            root.setLevel(saved_level)
            handler.close()
            torch.set_num_threads(saved_threads)

    # ------------------------------------------------------------------ internals

    def _fit(self, train_loader: Iterable, val_loader: Iterable, writer: Any) -> FitSummary:
        cfg = self.config
        if self.resolved_config is not None:
            save_config(self.resolved_config, self.out_dir / "config.yaml")
        task = self.task.to(self.device)
        if cfg.channels_last:
            task.model.to(memory_format=torch.channels_last)
        optimizer = torch.optim.AdamW(
            task.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=cfg.betas
        )
        steps_per_epoch = self._steps_per_epoch(train_loader)
        scheduler = build_scheduler(optimizer, cfg.scheduler, steps_per_epoch, cfg.epochs)
        scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        stopper = EarlyStopping(cfg.early_stopping.patience, cfg.early_stopping.min_delta, self.mode)
        show_bar = cfg.progress_bar and sys.stderr.isatty() and "PYTEST_CURRENT_TEST" not in os.environ
        summary = FitSummary(None, None, self.monitor, 0, False)
        log.info(
            "training %s on %s: %d epochs x %d steps, monitor %s (%s)",
            task.name, self.device, cfg.epochs, steps_per_epoch, self.monitor, self.mode,
        )  # fmt: skip

        for epoch in range(cfg.epochs):
            start = time.perf_counter()
            task.on_epoch_start(epoch, cfg.epochs)
            train_stats, n_images = self._train_epoch(
                train_loader, optimizer, scheduler, scaler, epoch, steps_per_epoch, show_bar, writer
            )
            train_time = time.perf_counter() - start
            outputs, val_metrics = self._validate(val_loader, show_bar)
            if self.monitor not in val_metrics:
                raise InspectorError(
                    f"monitored metric {self.monitor!r} is not among the validation metrics "
                    f"({', '.join(sorted(val_metrics))})"
                )
            value = float(val_metrics[self.monitor])
            improved = stopper.step(value)
            record = {
                "epoch": epoch + 1,
                "lr": optimizer.param_groups[0]["lr"],
                **{f"train_{k}": v for k, v in train_stats.items()},
                **{f"val_{k}": float(v) for k, v in val_metrics.items()},
                "images_per_s": n_images / max(train_time, 1e-9),
                "time_s": time.perf_counter() - start,
            }
            self.history.append(record)
            log.info(
                "epoch %d/%d  loss %.4f  val %s %.4f%s  (%.0f img/s, %.1fs)",
                epoch + 1, cfg.epochs, train_stats.get("loss", float("nan")), self.monitor, value,
                "  *best*" if improved else "", record["images_per_s"], record["time_s"],
            )  # fmt: skip
            if writer is not None:
                for key, val in val_metrics.items():
                    writer.add_scalar(f"val/{key}", val, epoch + 1)
                for key, val in train_stats.items():
                    writer.add_scalar(f"epoch/train_{key}", val, epoch + 1)
                writer.add_scalar("epoch/lr", record["lr"], epoch + 1)
                try:
                    task.log_epoch(writer, epoch + 1, outputs, val_metrics)
                except Exception:  # figures are a nicety; never kill a run over them
                    log.warning("could not log TensorBoard figures for epoch %d", epoch + 1, exc_info=True)
            card_metrics = {"val": {k: float(v) for k, v in val_metrics.items()}, "epoch": epoch + 1}
            if improved:
                summary.best_epoch, summary.best_metric = epoch + 1, value
                summary.best_path = self._save("best", card_metrics)
            summary.last_path = self._save("last", card_metrics)
            (self.out_dir / "history.json").write_text(json.dumps(self.history, indent=2))
            summary.epochs_run = epoch + 1
            if cfg.early_stopping.enabled and stopper.should_stop and epoch + 1 < cfg.epochs:
                log.info(
                    "early stopping after epoch %d: %s has not improved by %g for %d epochs",
                    epoch + 1, self.monitor, cfg.early_stopping.min_delta, stopper.patience,
                )  # fmt: skip
                summary.stopped_early = True
                break
        summary.history = self.history
        log.info(
            "best %s %.4f at epoch %s", self.monitor, summary.best_metric or float("nan"), summary.best_epoch
        )
        return summary

    def _steps_per_epoch(self, loader: Iterable) -> int:
        try:
            n = len(loader)  # type: ignore[arg-type]
        except TypeError:
            n = self.config.max_steps_per_epoch or 1
        if self.config.max_steps_per_epoch:
            n = min(n, self.config.max_steps_per_epoch)
        if n <= 0:
            raise InspectorError("the training set is empty: no batch to train on")
        return n

    def _train_epoch(
        self,
        loader: Iterable,
        optimizer: torch.optim.Optimizer,
        scheduler: LRScheduler,
        scaler: torch.amp.GradScaler,
        epoch: int,
        steps_per_epoch: int,
        show_bar: bool,
        writer: Any,
    ) -> tuple[dict[str, float], int]:
        cfg = self.config
        task = self.task
        task.train(True)
        sums: dict[str, float] = defaultdict(float)
        steps = 0
        n_images = 0
        bar = _progress(loader, steps_per_epoch, f"epoch {epoch + 1}/{cfg.epochs}", show_bar)
        for step, batch in enumerate(bar):
            if step >= steps_per_epoch:
                break
            batch = _to_device(batch, self.device, self.memory_format)
            progress = (epoch + step / steps_per_epoch) / cfg.epochs
            with self._autocast():
                out = task.training_step(batch, progress)
            loss = out["loss"]
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                raise InspectorError(
                    f"training diverged: the loss is {loss_value} at epoch {epoch + 1}, step {step + 1}; "
                    "lower train.lr or check the data"
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if cfg.grad_clip > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(
                    [p for group in optimizer.param_groups for p in group["params"]], cfg.grad_clip
                )
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            self.global_step += 1
            steps += 1
            n_images += _batch_len(batch)
            for key, value in out.items():
                scalar = _scalar(value)
                if scalar is not None:
                    sums[key] += scalar
            if writer is not None and self.global_step % cfg.log_every == 0:
                writer.add_scalar("train/loss", loss_value, self.global_step)
                writer.add_scalar("train/lr", optimizer.param_groups[0]["lr"], self.global_step)
            if show_bar and hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{loss_value:.4f}")
            elif steps % cfg.log_every == 0:  # no bar (nohup, CI): a heartbeat in the log instead
                log.info("epoch %d step %d/%d loss %.4f", epoch + 1, steps, steps_per_epoch, loss_value)
        return {k: v / max(steps, 1) for k, v in sums.items()}, n_images

    @torch.no_grad()
    def _validate(self, loader: Iterable, show_bar: bool) -> tuple[list[dict[str, Any]], dict[str, float]]:
        task = self.task
        task.train(False)
        outputs = []
        for i, batch in enumerate(_progress(loader, None, "validate", show_bar)):
            if self.config.max_val_batches and i >= self.config.max_val_batches:
                break
            batch = _to_device(batch, self.device, self.memory_format)
            with self._autocast():
                outputs.append(task.validation_step(batch))
        if not outputs:
            raise InspectorError("the validation set is empty: no batch to validate on")
        return outputs, task.validation_end(outputs)

    def _autocast(self) -> torch.autocast:
        """float16 autocast on CUDA when ``amp``; bfloat16 on CPU when ``cpu_bf16``; else a no-op."""
        return torch.autocast(self.device.type, dtype=self.autocast_dtype, enabled=self.use_autocast)

    def _save(self, name: str, metrics: dict[str, Any]) -> Path:
        card = dict(self.task.card())
        card.setdefault("seed", self.config.seed)
        card["metrics"] = metrics
        return save_checkpoint(
            self.task.model, self.out_dir / name, card, fp16=self.config.checkpoint_dtype == "float16"
        )

    def _attach_log_file(self) -> logging.Handler:
        """Copy INFO logs of the run to ``train.log`` (the root level is restored after fit)."""
        handler = logging.FileHandler(self.out_dir / "train.log", encoding="utf-8")
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
        return handler

    def _open_tensorboard(self) -> Any:
        if not self.config.tensorboard:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional at runtime
            log.warning("tensorboard is not installed; skipping TensorBoard logs")
            return None
        return SummaryWriter(log_dir=str(self.out_dir / "tb"))
