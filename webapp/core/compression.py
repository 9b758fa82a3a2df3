"""Compress text responses (pages, JSON, CSS, JS, SVG) with brotli or gzip.

Phones on patchy mobile data pay for every byte: a PO page shrinks to about a fifth. Static
files that WhiteNoise serves arrive pre-compressed and never reach this hook; when Flask
serves them (development, tests) their compressed bytes are kept in memory by ETag.
"""

from __future__ import annotations

import gzip
from collections import OrderedDict

from flask import Flask, request

MIN_SIZE = 512  # below this the headers cost more than compression saves
PAGE_QUALITY = 2  # brotli quality of pages made per request (see _compress)
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/manifest+json",
              "image/svg+xml", "application/xml")
_static_cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
STATIC_CACHE_ENTRIES = 64

try:
    import brotli
except ImportError:  # gzip only; every browser accepts it
    brotli = None


def _encoding() -> str | None:
    accepted = request.accept_encodings
    if brotli is not None and accepted["br"]:
        return "br"
    if accepted["gzip"]:
        return "gzip"
    return None


def _compress(data: bytes, encoding: str, *, best: bool) -> bytes:
    if encoding == "br":
        # Quality 2 for pages: half the CPU of 4 (inbox 81 -> 44 us, PO page 71 -> 35 us) for
        # 8-12 % more bytes, and every page stays far inside one round trip's worth (~14 KB);
        # 11 only for cached files (docs/benchmarks.md, load test, sixth round).
        return brotli.compress(data, quality=11 if best else PAGE_QUALITY)
    return gzip.compress(data, compresslevel=9 if best else 6, mtime=0)


def compress_response(response):
    """after_request: compress a text response the client accepts compressed."""
    if (response.status_code != 200 or "Content-Encoding" in response.headers
            or not (response.mimetype or "").startswith(TEXT_TYPES)
            or response.is_streamed and not response.direct_passthrough):
        return response
    response.vary.add("Accept-Encoding")
    encoding = _encoding()
    if encoding is None:
        return response
    etag, weak = response.get_etag()
    key = (f"{etag}:{request.path}", encoding) if etag else None
    body = _static_cache.get(key) if key else None
    response.direct_passthrough = False  # send_file: read the file to compress it
    if body is None:
        data = response.get_data()
        if len(data) < MIN_SIZE:
            return response
        body = _compress(data, encoding, best=key is not None)
        if key:
            _static_cache[key] = body
            while len(_static_cache) > STATIC_CACHE_ENTRIES:
                _static_cache.popitem(last=False)
    if hasattr(response.response, "close"):
        response.response.close()  # the file send_file opened
    response.set_data(body)
    response.headers["Content-Encoding"] = encoding
    if etag:  # a compressed body is a different representation
        response.set_etag(f"{etag}-{encoding}", weak=weak)
    return response


def init_compression(app: Flask) -> None:
    """Compress every eligible response of `app` (registered last, so it runs last)."""
    app.after_request_funcs.setdefault(None, []).insert(0, compress_response)
