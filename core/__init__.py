"""The shared core every other package may use, and which uses none of them.

Errors (:mod:`core.errors`), the plug-in registry (:mod:`core.registry`), image decoding
(:mod:`core.imageio`), crop windows (:mod:`core.window`), preprocessing shared by training and
inspection (:mod:`core.preprocessing`), the dataset manifest (:mod:`core.manifest`) and checkpoint
I/O with its cards (:mod:`core.checkpoint`). Layers: core <- models <- inspector <- training, with
the UI and the CLI on top (docs/DEVELOPING.md).
"""
