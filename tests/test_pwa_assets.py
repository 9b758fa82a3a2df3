"""Hashed static names with immutable caching, one script bundle, compression, cache keys."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from tests.auth_helpers import make_vendor, sign_in
from webapp import create_app
from webapp.core.assets import IMMUTABLE

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def _assets(html: str) -> list[str]:
    return ASSET.findall(html)


def test_pages_link_hashed_names_that_are_immutable(client, app):
    urls = _assets(client.get("/login").get_data(as_text=True))
    css = next(u for u in urls if u.endswith(".css"))
    js = next(u for u in urls if u.endswith(".js"))
    assert re.fullmatch(r"/static/app\.[0-9a-f]{10}\.css", css)
    assert re.fullmatch(r"/static/app\.bundle\.[0-9a-f]{10}\.js", js)
    assert len([u for u in urls if u.endswith(".js")]) == 1  # one script per page
    hashed = client.get(css)
    assert hashed.status_code == 200 and hashed.headers["Cache-Control"] == IMMUTABLE
    plain = client.get("/static/app.css")  # the old name keeps working, briefly cached
    assert plain.status_code == 200 and "immutable" not in plain.headers.get("Cache-Control", "")
    assert hashed.data == plain.data


def test_a_stale_hash_still_serves_the_file_but_not_as_immutable(client):
    response = client.get("/static/app.0123456789.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers.get("Cache-Control", "")
    assert client.get("/static/nothing.0123456789.css").status_code == 404


def test_a_changed_file_gets_a_new_name(app, tmp_path):
    from webapp.core.assets import StaticAssets

    (tmp_path / "x.css").write_text("a{}")
    assets = StaticAssets(tmp_path, watch=True)
    first = assets.hashed("x.css")
    (tmp_path / "x.css").write_text("b{}")
    second = assets.hashed("x.css")
    assert first != second and assets.resolve(second) == ("x.css", True)
    assert assets.resolve(first) == ("x.css", False)


def test_the_bundle_holds_the_queue_and_the_app_script_compressed(client, app):
    js = next(u for u in _assets(client.get("/login").get_data(as_text=True))
              if u.endswith(".js"))
    plain = client.get(js)
    text = plain.get_data(as_text=True)
    assert "self.AckQueue" in text and "ACORN's one script" in text
    assert plain.headers["Cache-Control"] == IMMUTABLE
    br = client.get(js, headers={"Accept-Encoding": "br"})
    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.data) == plain.data
    gz = client.get(js, headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(gz.data) == plain.data
    again = client.get(js, headers={"Accept-Encoding": "gzip",
                                    "If-None-Match": gz.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_pages_and_static_text_are_compressed(client, encoding):
    page = client.get("/login", headers={"Accept-Encoding": encoding})
    assert page.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in page.headers["Vary"]
    body = gzip.decompress(page.data) if encoding == "gzip" else brotli.decompress(page.data)
    assert b"<form" in body
    plain = client.get("/login")
    assert "Content-Encoding" not in plain.headers and b"<form" in plain.data
    css = client.get("/static/app.css", headers={"Accept-Encoding": encoding})
    assert css.headers["Content-Encoding"] == encoding and len(css.data) < 0.4 * len(
        client.get("/static/app.css").data)
    icon = client.get("/static/icons/icon-192.png", headers={"Accept-Encoding": encoding})
    assert "Content-Encoding" not in icon.headers  # PNG is compressed already


def test_whitenoise_serves_hashed_names_immutable_and_precompressed(test_config, _migrated):
    class WhiteNoiseConfig(test_config):
        STATIC_WHITENOISE = True

    client = create_app(WhiteNoiseConfig).test_client()
    css = next(u for u in _assets(client.get("/login").get_data(as_text=True))
               if u.endswith(".css"))
    response = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"--brand" in gzip.decompress(response.data)


def test_signed_in_pages_name_a_cache_key_per_user(app):
    first, second = app.test_client(), app.test_client()
    sign_in(first)
    sign_in(second, vendor=make_vendor("Other Co"))
    a = first.get("/orders")
    b = second.get("/orders")
    key_a, key_b = a.headers["X-Acorn-Cache-Key"], b.headers["X-Acorn-Cache-Key"]
    assert key_a and key_b and key_a != key_b
    assert first.get("/orders").headers["X-Acorn-Cache-Key"] == key_a  # stable
    assert "X-Acorn-Cache-Key" not in app.test_client().get("/login").headers
    html = a.get_data(as_text=True)
    assert re.search(r'data-offline-note hidden role="status">Offline, as of \d{1,2}:\d{2}', html)
