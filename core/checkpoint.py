"""Checkpoints: ``NAME.safetensors`` (weights) + ``NAME.json`` (the card). Never pickle.

The card always carries ``task``, ``architecture``, ``model_kwargs``, ``class_names``,
``input_size``, ``normalisation``, ``metrics``, ``config``, ``seed``, ``data_fingerprint`` and
``created``; ``threshold`` (rgb/gain), ``temperature`` (ct) and ``default: true`` where they
apply. Example::

    save_checkpoint(model, Path("runs/ct/best"), card, fp16=True)
    state_dict, card = load_checkpoint("runs/ct/best.safetensors", task="ct")
    model = create_model(card["architecture"], **card["model_kwargs"])
    load_state_dict_strict(model, state_dict, card)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from core.errors import CheckpointError

log = logging.getLogger(__name__)

__all__ = [
    "CARD_KEYS",
    "card_path",
    "export_checkpoint",
    "load_card",
    "load_checkpoint",
    "load_matching_tensors",
    "load_state_dict_strict",
    "save_checkpoint",
    "update_card",
    "weights_path",
]

#: Keys every card has (values may be ``None`` where they do not apply).
CARD_KEYS = (
    "task",
    "architecture",
    "model_kwargs",
    "class_names",
    "input_size",
    "normalisation",
    "metrics",
    "config",
    "seed",
    "data_fingerprint",
    "created",
)


def _stem(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix in (".safetensors", ".json"):
        return path.with_suffix("")
    return path


def weights_path(path: str | Path) -> Path:
    """``runs/x/best`` / ``best.json`` / ``best.safetensors`` -> ``best.safetensors``."""
    return _stem(path).with_suffix(".safetensors")


def card_path(path: str | Path) -> Path:
    """``runs/x/best`` / ``best.json`` / ``best.safetensors`` -> ``best.json``."""
    return _stem(path).with_suffix(".json")


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):  # numpy arrays
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Statistics stored beside the weights (the review density): kept in float32 even in fp16
# exports, since an inverse covariance does not survive half precision; not model parameters.
FLOAT32_PREFIXES: tuple[str, ...] = ("review.",)


def save_checkpoint(
    model: nn.Module | Mapping[str, torch.Tensor],
    out_stem: str | Path,
    card: Mapping[str, Any],
    fp16: bool = True,
) -> Path:
    """Write ``out_stem.safetensors`` and ``out_stem.json``.

    Args:
        model: The module (its ``state_dict()`` is saved) or a state dict.
        out_stem: Path without suffix (a ``.safetensors``/``.json`` suffix is stripped).
        card: Card fields; ``created``, ``dtype``, ``n_parameters`` and ``sha256`` are added.
        fp16: Store floating-point tensors as float16 (halves the file; integer buffers stay).

    Returns:
        The path of the ``.safetensors`` file.
    """
    state = model.state_dict() if isinstance(model, nn.Module) else dict(model)
    tensors: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        tensor = tensor.detach().cpu()
        if fp16 and tensor.is_floating_point() and not name.startswith(FLOAT32_PREFIXES):
            tensor = tensor.to(torch.float16)
        # clone: safetensors refuses tensors that share storage (tied weights, views)
        tensors[name] = tensor.contiguous().clone()
    weights = weights_path(out_stem)
    weights.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(weights), metadata={"format": "pt"})
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    full_card = {key: None for key in CARD_KEYS}
    full_card.update(card)
    full_card.update(
        created=full_card.get("created") or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        dtype="float16" if fp16 else "float32",
        n_parameters=int(
            sum(
                t.numel()
                for n, t in state.items()
                if not n.endswith("num_batches_tracked") and not n.startswith(FLOAT32_PREFIXES)
            )
        ),
        sha256=digest,
    )
    card_path(out_stem).write_text(
        json.dumps(full_card, indent=2, ensure_ascii=False, default=_json_default), encoding="utf-8"
    )
    log.debug("saved checkpoint %s (%s)", weights, full_card["dtype"])
    return weights


def load_card(path: str | Path) -> dict[str, Any]:
    """Read only the JSON card of a checkpoint.

    Raises:
        CheckpointError: If the card is missing or not valid JSON.
    """
    card_file = card_path(path)
    if not card_file.is_file():
        raise CheckpointError(f"checkpoint card {card_file} does not exist")
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"checkpoint card {card_file} is not valid JSON") from exc
    if not isinstance(card, dict):
        raise CheckpointError(f"checkpoint card {card_file} is not a JSON object")
    return card


def load_checkpoint(
    path: str | Path,
    task: str | None = None,
    architecture: str | None = None,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load weights and card; tensors stay in their stored dtype (``load_state_dict`` casts).

    Args:
        path: ``NAME.safetensors``, ``NAME.json`` or ``NAME``.
        task: If given, the card's ``task`` must match (``"ct"``, ``"rgb"``, ``"gain"``).
        architecture: If given, the card's ``architecture`` must match.

    Returns:
        ``(state_dict, card)``.

    Raises:
        CheckpointError: Missing or unreadable files, or a task/architecture mismatch.
    """
    weights = weights_path(path)
    if not weights.is_file():
        raise CheckpointError(f"checkpoint {weights} does not exist")
    card = load_card(path)
    if task is not None and card.get("task") != task:
        raise CheckpointError(
            f"checkpoint {weights.name} is a {card.get('task') or 'unknown'} checkpoint, not a {task} one"
        )
    if architecture is not None and card.get("architecture") != architecture:
        raise CheckpointError(
            f"checkpoint {weights.name} holds architecture {card.get('architecture')!r}, "
            f"expected {architecture!r}"
        )
    try:
        state_dict = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {weights} is not a readable safetensors file ({exc})") from exc
    return state_dict, card


def load_state_dict_strict(model: nn.Module, state_dict: Mapping[str, torch.Tensor], card: Mapping) -> None:
    """Load weights into ``model`` and turn any key or shape mismatch into a one-line error.

    Raises:
        CheckpointError: If the weights do not fit the model built from the card.
    """
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = first[1].strip() if len(first) > 1 else first[0] if first else ""
        raise CheckpointError(
            f"checkpoint weights do not match architecture {card.get('architecture')!r}: {detail[:200]}"
        ) from exc


def load_matching_tensors(model: nn.Module, state_dict: Mapping[str, torch.Tensor], min_share: float = 0.5) -> int:
    """Copy every tensor of ``state_dict`` whose name and shape match one of ``model``'s.

    For warm starts across architectures that share a part (an encoder); the rest of the model
    keeps its initialisation.

    Args:
        model: The model to fill.
        state_dict: The checkpoint's tensors.
        min_share: Least share of the model's values that must be copied; below it the checkpoint
            is not a relative of the model (a stray class bias of the same length is not a warm start).

    Returns:
        How many tensors were copied.

    Raises:
        CheckpointError: If less than ``min_share`` of the model's values match.
    """
    own = model.state_dict()
    matching = {
        name: tensor
        for name, tensor in state_dict.items()
        if name in own and tuple(own[name].shape) == tuple(tensor.shape)
    }
    total = sum(t.numel() for t in own.values())
    copied = sum(own[name].numel() for name in matching)
    if copied < min_share * total:
        raise CheckpointError(
            f"the checkpoint matches the model by name and shape for only {copied / max(total, 1):.0%} "
            f"of its values (at least {min_share:.0%} needed for a partial warm start)"
        )
    model.load_state_dict(matching, strict=False)
    return len(matching)


def update_card(path: str | Path, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into an existing card on disk and return the new card."""
    card = load_card(path)
    card.update(fields)
    card_path(path).write_text(
        json.dumps(card, indent=2, ensure_ascii=False, default=_json_default), encoding="utf-8"
    )
    return card


def export_checkpoint(src: str | Path, out_stem: str | Path, fp16: bool = True, **card_fields: Any) -> Path:
    """Copy a run checkpoint to a shipped one (e.g. ``checkpoints/ct_compact``), in fp16.

    Args:
        src: The run checkpoint (``runs/x/best.safetensors``).
        out_stem: Destination path without suffix.
        fp16: Store floating-point weights as float16.
        **card_fields: Card fields to set, e.g. ``default=True, metrics={...}``.

    Returns:
        The path of the written ``.safetensors`` file.
    """
    state_dict, card = load_checkpoint(src)
    card.update(card_fields)
    card["exported_from"] = str(weights_path(src))
    for key in ("dtype", "sha256", "n_parameters"):
        card.pop(key, None)
    return save_checkpoint(state_dict, out_stem, card, fp16=fp16)
