"""The HTTP and WebSocket interface: ``create_app(service)`` (see ``courtside.api.app``)."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def create_app(service: Any, **options: Any) -> Any:
    """The FastAPI app over a service; see :func:`courtside.api.app.create_app`."""
    from courtside.api.app import create_app as build

    return build(service, **options)
