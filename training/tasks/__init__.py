"""Tasks: the glue between a model, its losses and the shared :class:`training.loop.Trainer`.

A task owns the model and the loss and knows what one batch means; the Trainer owns
everything else (optimiser, schedule, clipping, AMP, early stopping, checkpoints, logs).
Writing a task is subclassing :class:`Task`::

    class MyTask(Task):
        name = "my"
        monitor = ("macro_f1", "max")  # a key returned by validation_end

        def __init__(self, model, loss_fn):
            self.model, self.loss_fn = model, loss_fn

        def training_step(self, batch, epoch_progress):
            logits = self.model(batch["image"], batch.get("meta"))
            return {"loss": self.loss_fn(logits, batch["label"])}

        def validation_step(self, batch):
            return {"logits": self.model(batch["image"], batch.get("meta")), "label": batch["label"]}

        def validation_end(self, outputs):
            logits = torch.cat([o["logits"] for o in outputs])
            labels = torch.cat([o["label"] for o in outputs])
            return {"accuracy": (logits.argmax(1) == labels).float().mean().item()}

        def card(self):
            return {"task": "my", "architecture": "resnet18", ...}

    Trainer(MyTask(model, loss_fn), config.train, out_dir).fit(train_loader, val_loader)
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["Task", "cli_entry_point"]


def cli_entry_point(
    task: str,
    load_config: Callable[[str | Path, dict[str, Any]], Any],
    train: Callable[[Any, str | Path, str | Path], Any],
    report: str | None = "best",
) -> Callable[..., Any]:
    """Make the ``train_from_cli`` function of a task module (``python -m inspector train <task>``).

    Args:
        task: Task name (``ct``), for the docstring and the logger (``training.tasks.<task>``).
        load_config: ``load_config(path, overrides)`` of the task's config, taking dotted keys.
        train: ``train(config, data_dir, out_dir)`` of the task (a ``FitSummary`` when ``report``
            is set).
        report: Which checkpoint to log at the end: ``"best"``, ``"last"``, or ``None`` for a
            task whose ``train`` logs its own result.

    Returns:
        ``train_from_cli(config_path, data_dir, out_dir, overrides=None)``, returning what
        ``train`` returns, where ``overrides`` (``epochs``, ``seed``) become ``train.*`` config keys.
    """

    def train_from_cli(
        config_path: str | Path,
        data_dir: str | Path,
        out_dir: str | Path,
        overrides: Mapping[str, Any] | None = None,
    ) -> Any:
        config = load_config(config_path, {f"train.{k}": v for k, v in (overrides or {}).items()})
        summary = train(config, data_dir, out_dir)
        if report is not None:
            logging.getLogger(f"{__name__}.{task}").info(
                "%s checkpoint: %s", report, getattr(summary, f"{report}_path")
            )
        return summary

    train_from_cli.__doc__ = (
        f"Entry point of ``python -m inspector train {task}`` (``overrides``: ``epochs``, ``seed``)."
    )
    return train_from_cli


class Task(abc.ABC):
    """Base class of a training task (the contract between a model and the Trainer).

    Attributes:
        name: Short task name (``ct``, ``rgb``, ``gain``) written into checkpoint cards.
        model: The ``nn.Module`` being trained; saved in checkpoints.
        monitor: ``(metric, mode)``: a key of :meth:`validation_end`'s result and ``"max"`` or
            ``"min"``; drives early stopping and the choice of ``best``.
    """

    name: str = "task"
    model: nn.Module
    monitor: tuple[str, str] = ("loss", "min")

    @abc.abstractmethod
    def training_step(self, batch: Mapping[str, Any], epoch_progress: float) -> dict[str, Any]:
        """Forward one training batch.

        Args:
            batch: The collated batch, already on the training device.
            epoch_progress: Fraction of the whole run done, in ``[0, 1)`` (for curricula and
                warm-ups of loss terms).

        Returns:
            ``{"loss": scalar Tensor with grad, **other scalars}``; other values are averaged
            per epoch and logged as ``train_<name>``.
        """

    @abc.abstractmethod
    def validation_step(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        """Forward one validation batch (called under ``torch.no_grad``); return anything."""

    @abc.abstractmethod
    def validation_end(self, outputs: list[dict[str, Any]]) -> dict[str, float]:
        """Reduce the validation step outputs to scalar metrics (must contain the monitor)."""

    def card(self) -> dict[str, Any]:
        """Checkpoint card fields (``task``, ``architecture``, ``model_kwargs``, ...).

        The Trainer adds ``metrics``, ``epoch`` and ``created`` when it saves.
        """
        return {"task": self.name}

    def parameters(self) -> Iterable[torch.nn.Parameter] | list[dict[str, Any]]:
        """What the optimiser updates: parameters or parameter groups (default: the model's)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def to(self, device: torch.device) -> Task:
        """Move every module the task holds (model, losses with buffers) to ``device``."""
        for value in vars(self).values():
            if isinstance(value, nn.Module):
                value.to(device)
        return self

    def train(self, mode: bool = True) -> None:
        """Switch the model between training and evaluation mode."""
        self.model.train(mode)

    def on_epoch_start(self, epoch: int, num_epochs: int) -> None:  # noqa: B027 - optional hook
        """Hook called before each training epoch (0-based)."""

    def log_epoch(  # noqa: B027 - optional hook
        self,
        writer: Any,
        epoch: int,
        outputs: list[dict[str, Any]],
        metrics: Mapping[str, float],
    ) -> None:
        """Hook to log figures/images to TensorBoard after validation (``writer`` is a SummaryWriter)."""
