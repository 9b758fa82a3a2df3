"""Answer with a stored image: our own encoding, never sniffed, never run as a document."""

from __future__ import annotations

from flask import Response, abort, send_file

from webapp.media.storage import MediaNotFound, get_store


def stored_image_response(key: str, content_type: str, name: str) -> Response:
    """Serve the stored file `key` inline as `name`.jpg/.png; 404 if it is gone."""
    try:
        stored = get_store().open_for_response(key)
    except MediaNotFound:
        abort(404)
    extension = "png" if content_type == "image/png" else "jpg"
    # The type is the one we encoded (from the row, never sniffed); inline, under our name.
    response = send_file(stored.stream, mimetype=content_type, conditional=False, etag=False,
                         max_age=None)
    response.content_length = stored.size
    response.headers["Content-Disposition"] = f'inline; filename="{name}.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Cache-Control: webapp.security makes every signed-in answer "no-store" (beyond private).
    # An image is never a document: nothing in it may run even if a browser were fooled.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
