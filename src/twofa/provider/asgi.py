"""An import target for ASGI servers: ``uvicorn --factory twofa.provider.asgi:create``."""

from __future__ import annotations

from fastapi import FastAPI

from twofa.provider.app import create_app
from twofa.settings import load_settings


def create() -> FastAPI:
    """The provider configured from the environment."""
    return create_app(load_settings())
