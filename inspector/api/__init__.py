"""REST API over the inspector runtime (``python -m inspector serve``): see :func:`create_app`."""

from inspector.api.app import create_app

__all__ = ["create_app"]
