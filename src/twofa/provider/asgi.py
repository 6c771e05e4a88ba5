"""An import target for ASGI servers: ``uvicorn --factory twofa.provider.asgi:create``."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from twofa.provider.app import create_app
from twofa.settings import load_settings


def create() -> FastAPI:
    """The provider configured from the environment, its start-up heap frozen.

    Imports and the application make a heap of some 140,000 objects that live as long as the
    process. Python's collector walked all of them on every full collection, which under load
    came every few seconds and stalled the event loop for tens of milliseconds (hundreds on a
    busy machine): the verification benchmark's p99. Frozen, they are never walked again; only
    objects made after start-up are collected as before.
    """
    app = create_app(load_settings())
    gc.collect()
    gc.freeze()
    return app
