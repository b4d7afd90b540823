"""`uvicorn onebar.server.asgi:build --factory`: the app from the environment and config file, for
several worker processes (each builds its own app)."""

from __future__ import annotations

from fastapi import FastAPI

from onebar.server.app import create_app
from onebar.server.settings import load_settings


def build() -> FastAPI:
    return create_app(load_settings())
