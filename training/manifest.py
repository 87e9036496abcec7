"""Kept so the documented ``python -m training.manifest DIR`` still validates a dataset folder.

The manifest code lives in :mod:`core.manifest` (``python -m core.manifest DIR`` is the same).
"""

from core.manifest import main

if __name__ == "__main__":
    raise SystemExit(main())
