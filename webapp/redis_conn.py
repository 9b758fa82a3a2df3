"""The app's Redis connection: REDIS_URL, or the embedded server when it is unset."""

from __future__ import annotations

import atexit

import redis
from flask import Flask, current_app

from webapp.embedded_redis import EmbeddedRedis


def redis_url(app: Flask | None = None) -> str:
    """Return the Redis URL, starting the embedded server on first need when none is set."""
    app = app or current_app._get_current_object()
    url = app.config.get("REDIS_URL")
    if url:
        return url
    server = EmbeddedRedis(app.config["INSTANCE_DIR"])
    url = server.start()
    if server.process is not None:  # we own it: stop it when this process ends
        atexit.register(server.stop)
    app.config["REDIS_URL"] = url
    return url


def get_redis(app: Flask | None = None) -> redis.Redis:
    """Return the shared Redis client of this app (bytes responses, short timeouts)."""
    app = app or current_app._get_current_object()
    client = app.extensions.get("acorn.redis")
    if client is None:
        client = redis.Redis.from_url(
            redis_url(app), socket_timeout=5, socket_connect_timeout=2, health_check_interval=30
        )
        app.extensions["acorn.redis"] = client
    return client
