"""The web face: FastAPI, server-rendered pages with JSON twins, thin over the services."""

from gosplan.web.app import create_app

__all__ = ["create_app"]
