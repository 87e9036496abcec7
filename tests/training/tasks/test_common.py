"""Tests for training.tasks.common: the helpers the CT, RGB and GAIN tasks share."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from core.errors import CheckpointError, ConfigError
from training.tasks.common import evenly_spaced_indices, load_task_model, normalise, task_loader


def test_evenly_spaced_indices_keep_first_and_last():
    assert evenly_spaced_indices(5, None).tolist() == [0, 1, 2, 3, 4]
    assert evenly_spaced_indices(5, 10).tolist() == [0, 1, 2, 3, 4]
    assert evenly_spaced_indices(101, 5).tolist() == [0, 25, 50, 75, 100]


def test_normalise():
    assert torch.equal(normalise(torch.tensor([0.75]), 0.5, 0.25), torch.tensor([1.0]))


def test_task_loader_drops_the_last_short_batch_only_when_training():
    data = TensorDataset(torch.arange(5.0))
    assert len(task_loader(data, 2, seed=0, train=True)) == 2
    assert len(task_loader(data, 2, seed=0, train=False)) == 3
    first = [b[0].tolist() for b in task_loader(data, 2, seed=3, train=True)]
    again = [b[0].tolist() for b in task_loader(data, 2, seed=3, train=True)]
    assert first == again


def test_load_task_model_names_a_card_it_cannot_build(tmp_path):
    from core.checkpoint import save_checkpoint

    model = torch.nn.Linear(2, 1)
    save_checkpoint(model, tmp_path / "m", {"task": "ct", "architecture": "linear"}, fp16=False)

    def broken(card):
        raise ConfigError("unknown architecture")

    with pytest.raises(CheckpointError, match="cannot be built"):
        load_task_model(tmp_path / "m.safetensors", "ct", broken)
    loaded, card = load_task_model(tmp_path / "m.safetensors", "ct", lambda card: torch.nn.Linear(2, 1))
    assert card["architecture"] == "linear" and not loaded.training
    assert np.allclose(loaded.weight.detach().numpy(), model.weight.detach().numpy())
