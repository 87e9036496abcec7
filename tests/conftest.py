"""Shared pytest fixtures.

``tiny_dataset`` and ``tiny_shortcut_dataset`` are small synthetic datasets (64 px) generated
once per test session; tests must treat them as read-only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from training.synth import generate, load_config

TINY = dict(size=64, batteries=16, ct_per_battery=6, rgb_per_battery=3, workers=0)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CT + RGB dataset (seed 0) with every CT and RGB label in train, val and test."""
    root = tmp_path_factory.mktemp("tiny_dataset")
    generate(load_config(seed=0, **TINY), root)
    return root


@pytest.fixture(scope="session")
def tiny_shortcut_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CT-only dataset with ``--shortcut 0.9`` (stamp column, ``test_shift`` split)."""
    root = tmp_path_factory.mktemp("tiny_shortcut_dataset")
    generate(load_config(seed=3, modality="ct", shortcut=0.9, **TINY), root)
    return root
