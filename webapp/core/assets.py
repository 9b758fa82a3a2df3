"""Hashed static file names: `url_for('static', filename='app.css')` gives `app.<hash>.css`.

The hash is of the file's content, computed at start-up, so a changed file gets a new URL and
every hashed URL can be cached for a year as immutable. A WSGI middleware, outermost (in front
of WhiteNoise when it serves /static/, or Flask's own static view), maps a hashed name back to
the real file and sets the cache header; names without a hash, and hashes of an earlier
release, keep working with the ordinary short cache lifetime.

A bundle is one URL for several scripts (BUNDLES): pages load one script, while the
service worker still imports the parts it shares (ackqueue.js) on their own. The middleware
serves bundles itself from memory, compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

from flask import Flask

HASH_LENGTH = 10
IMMUTABLE = "public, max-age=31536000, immutable"
# `app.0123456789.css` -> ("app", "0123456789", ".css"); the hash is always HASH_LENGTH hex.
_HASHED = re.compile(
    rf"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[A-Za-z0-9]+)$")
# The service worker must stay at its own URL; the manifest is linked through its own route.
UNHASHED = {"sw.js"}
# Served as one script; the parts stay separate files (the service worker imports ackqueue.js).
BUNDLES = {"app.bundle.js": ("ackqueue.js", "app.js")}


class StaticAssets:
    """Content hashes of the files under one static folder."""

    def __init__(self, folder: str | Path, *, watch: bool = False) -> None:
        self.folder = Path(folder)
        self.watch = watch  # development: re-hash a file whose mtime changed
        self._hashes: dict[str, tuple[int, str]] = {}
        self._bundles: dict[str, tuple[str, tuple[str, bytes, dict[str, bytes]]]] = {}
        for path in self.folder.rglob("*"):
            if path.is_file():
                self._hash(path.relative_to(self.folder).as_posix())

    def bundle(self, name: str) -> tuple[str, bytes, dict[str, bytes]] | None:
        """Return (hash, body, {encoding: compressed body}) of bundle `name`, None if unknown."""
        parts = BUNDLES.get(name)
        if parts is None:
            return None
        key = "+".join(f"{part}:{self._hash(part)}" for part in parts)
        known = self._bundles.get(name)
        if known and known[0] == key:
            return known[1]
        body = b"\n".join((self.folder / part).read_bytes() for part in parts)
        compressed = {"gzip": gzip.compress(body, compresslevel=9, mtime=0)}
        try:
            import brotli
        except ImportError:
            pass
        else:
            compressed["br"] = brotli.compress(body)
        built = (hashlib.sha256(body).hexdigest()[:HASH_LENGTH], body, compressed)
        self._bundles[name] = (key, built)
        return built

    def _hash(self, filename: str) -> str | None:
        path = self.folder / filename
        try:
            mtime = path.stat().st_mtime_ns
        except (FileNotFoundError, NotADirectoryError):
            return None
        known = self._hashes.get(filename)
        if known and (not self.watch or known[0] == mtime):
            return known[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
        self._hashes[filename] = (mtime, digest)
        return digest

    def hashed(self, filename: str) -> str:
        """Return `filename` with its content hash before the suffix (unchanged if unknown)."""
        if filename in BUNDLES:
            digest = self.bundle(filename)[0]
        elif filename in UNHASHED or (filename not in self._hashes and not self.watch):
            return filename
        else:
            digest = self._hash(filename)
        if digest is None or "." not in Path(filename).name:
            return filename
        stem, dot, suffix = filename.rpartition(".")
        return f"{stem}.{digest}{dot}{suffix}"

    def resolve(self, filename: str) -> tuple[str, bool] | None:
        """Map a hashed name to (real name, hash is current); None when it is no hashed name."""
        match = _HASHED.match(filename)
        if not match:
            return None
        real = match["stem"] + match["suffix"]
        if real in BUNDLES:
            return real, self.bundle(real)[0] == match["hash"]
        if real not in self._hashes and not (self.watch and (self.folder / real).is_file()):
            return None
        return real, self._hash(real) == match["hash"]

    def urls(self, filenames) -> list[str]:
        """The hashed /static/ URLs of `filenames` (what the service worker precaches)."""
        return [f"/static/{self.hashed(name)}" for name in filenames]


class HashedStaticMiddleware:
    """Serve /static/<name>.<hash>.<ext> as /static/<name>.<ext>; current hashes are immutable."""

    def __init__(self, wsgi_app, assets: StaticAssets, prefix: str = "/static/") -> None:
        self.wsgi_app = wsgi_app
        self.assets = assets
        self.prefix = prefix

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.prefix):
            return self.wsgi_app(environ, start_response)
        name = path[len(self.prefix):]
        found = self.assets.resolve(name)
        if found is None and name not in BUNDLES:
            return self.wsgi_app(environ, start_response)
        real, current = found or (name, False)
        if real in BUNDLES:
            return self._serve_bundle(environ, start_response, real, current)
        environ = dict(environ, PATH_INFO=self.prefix + real)

        def start(status, headers, exc_info=None):
            if current and status.startswith(("200", "304")):
                headers = [(k, v) for k, v in headers if k.lower() not in ("cache-control",
                                                                          "expires")]
                headers.append(("Cache-Control", IMMUTABLE))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)

    def _serve_bundle(self, environ, start_response, name: str, current: bool):
        from werkzeug.http import parse_accept_header

        digest, body, compressed = self.assets.bundle(name)
        accepted = parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING", ""))
        encoding = next((e for e in ("br", "gzip") if e in compressed and accepted[e]), None)
        etag = f'"{digest}-{encoding or "identity"}"'
        headers = [("Content-Type", "text/javascript; charset=utf-8"), ("ETag", etag),
                   ("Vary", "Accept-Encoding"), ("X-Content-Type-Options", "nosniff"),
                   ("Cache-Control", IMMUTABLE if current else "no-cache")]
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            start_response("304 Not Modified", headers)
            return [b""]
        data = compressed[encoding] if encoding else body
        if encoding:
            headers.append(("Content-Encoding", encoding))
        headers.append(("Content-Length", str(len(data))))
        start_response("200 OK", headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else data]


def init_assets(app: Flask) -> StaticAssets:
    """Hash app.static_folder, make url_for('static') emit hashed names, serve them.

    Call after anything else that wraps `app.wsgi_app` (WhiteNoise) so this stays outermost.
    """
    assets = StaticAssets(app.static_folder, watch=bool(app.debug))
    app.extensions["acorn_assets"] = assets

    @app.url_defaults
    def _hashed_static(endpoint, values):
        if endpoint == "static" and "filename" in values:
            values["filename"] = assets.hashed(values["filename"])

    app.wsgi_app = HashedStaticMiddleware(app.wsgi_app, assets)
    return assets
