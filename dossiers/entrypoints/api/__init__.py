"""The HTTP API: ``create_app`` (FastAPI), served by ``conum serve`` (uvicorn)."""

from dossiers.entrypoints.api.app import create_app

__all__ = ["create_app"]
