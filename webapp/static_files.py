"""Static files through WhiteNoise: pre-compressed copies, long cache for hashed names.

WhiteNoise serves `x.css.gz` (or `.br`) next to `x.css` to clients that accept it, so at
start-up the static folder is mirrored into the instance folder with compressed siblings:
the code directory may be read-only, and every machine builds its own copy (a release step
would run on one machine only). A file whose name carries a content hash (`app.3f9c2a1b.css`)
is cached for a year as immutable; other files for STATIC_MAX_AGE seconds.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
from pathlib import Path

from flask import Flask

HASHED_NAME = re.compile(r"\.[0-9a-f]{8,64}\.[A-Za-z0-9]+$")
# Already compressed formats gain nothing from gzip.
SKIP = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".woff", ".woff2", ".gz", ".br",
        ".zip", ".mp4", ".webm"}


def init_static(app: Flask) -> None:
    """Serve /static/ from a compressed mirror with WhiteNoise when STATIC_WHITENOISE is on."""
    if not app.config.get("STATIC_WHITENOISE"):
        return
    from whitenoise import WhiteNoise

    build = Path(app.instance_path) / "static-build"
    build_static_mirror(Path(app.static_folder), build)
    app.wsgi_app = WhiteNoise(
        app.wsgi_app, root=str(build), prefix="static/",
        max_age=app.config.get("STATIC_MAX_AGE", 3600),
        immutable_file_test=lambda _path, url: bool(HASHED_NAME.search(url)),
        add_headers_function=_security_headers,
    )


def _security_headers(headers, _path, _url) -> None:
    # WhiteNoise answers before Flask, so the app's after_request headers must be added here.
    from webapp.security import CSP

    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"


def build_static_mirror(source: Path, target: Path) -> int:
    """Copy changed files from `source` to `target` with .gz/.br siblings; return files copied."""
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    wanted = set()
    for path in source.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(source)
        out = target / relative
        wanted.add(out)
        stat = path.stat()
        if out.exists() and out.stat().st_mtime_ns == stat.st_mtime_ns \
                and out.stat().st_size == stat.st_size:
            wanted.update(_siblings(out))
            continue
        data = path.read_bytes()
        _write_atomic(out, data, stat)
        copied += 1
        for sibling in _siblings(out):
            sibling.unlink(missing_ok=True)
        if path.suffix.lower() not in SKIP and data:
            for suffix, compressed in _compressed(data):
                if len(compressed) <= 0.95 * len(data):
                    _write_atomic(out.with_name(out.name + suffix), compressed, stat)
        wanted.update(_siblings(out))
    for path in target.rglob("*"):  # files removed from static/ must not be served any more
        if path.is_file() and path not in wanted and not path.name.startswith(".tmp-"):
            path.unlink(missing_ok=True)
    return copied


def _siblings(path: Path) -> list[Path]:
    return [p for p in (path.with_name(path.name + ".gz"), path.with_name(path.name + ".br"))
            if p.exists()]


def _compressed(data: bytes):
    yield ".gz", gzip.compress(data, compresslevel=9, mtime=0)
    try:
        import brotli
    except ImportError:
        return
    yield ".br", brotli.compress(data)


def _write_atomic(path: Path, data: bytes, stat: os.stat_result) -> None:
    # Several web processes may build at once: each file appears whole or not at all.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o644)
    os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(tmp, path)
