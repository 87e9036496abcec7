"""Synthetic battery CT/RGB dataset generator (``python -m inspector synth``).

The generator is split by concern: :mod:`.config` (every knob), :mod:`.plan` (batteries,
splits, labels, stamps), :mod:`.ct` / :mod:`.rgb` (renderers), :mod:`.defects` and
:mod:`.artefacts` (what is drawn on a CT slice), :mod:`.stamp` (the shortcut cue),
:mod:`.generator` (writes the files) and :mod:`.preview` (the contact sheet).
"""

from training.synth.config import SynthConfig, load_config
from training.synth.generator import generate

__all__ = ["SynthConfig", "generate", "load_config"]
