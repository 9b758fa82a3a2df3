"""The Simplified Chinese catalogue covers every string the templates and Python code mark."""

from __future__ import annotations

import re
import subprocess
import sys

from babel.messages.pofile import read_po

from config import BASE_DIR
from webapp.i18n_cli import LOCALES, _po_path


def _extracted(tmp_path) -> dict[str, object]:
    """Extract the marked strings afresh (as `flask translations update` does)."""
    pot = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "--no-location", "-o", str(pot), "."],
        cwd=BASE_DIR, check=True, capture_output=True)
    with open(pot, "rb") as f:
        return {m.id: m for m in read_po(f) if m.id}


def _missing(catalogue, extracted) -> list[str]:
    missing = []
    for msgid in extracted:
        message = catalogue.get(msgid)
        strings = message.string if message is not None else None
        if isinstance(strings, tuple):
            ok = all(strings)
        else:
            ok = bool(strings)
        if message is None or not ok or message.fuzzy:
            missing.append(msgid if isinstance(msgid, str) else msgid[0])
    return sorted(missing)


def test_every_marked_string_has_a_chinese_translation(tmp_path):
    extracted = _extracted(tmp_path)
    assert len(extracted) > 500  # the extraction really read the templates and code
    for locale in LOCALES:
        with open(_po_path(locale), "rb") as f:
            catalogue = read_po(f, locale=locale)
        missing = _missing(catalogue, extracted)
        assert not missing, f"{locale}: {len(missing)} untranslated: {missing[:20]}"


def test_placeholders_survive_translation():
    """A translation keeps every %(name)s of its English source, or formatting would fail."""
    placeholder = re.compile(r"%\(\w+\)s")
    for locale in LOCALES:
        with open(_po_path(locale), "rb") as f:
            catalogue = read_po(f, locale=locale)
        broken = []
        for message in catalogue:
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set(placeholder.findall(ids[-1]))
            broken += [ids[0] for s in strings if s and set(placeholder.findall(s)) != wanted
                       and set(placeholder.findall(s)) != set(placeholder.findall(ids[0]))]
        assert not broken, f"{locale}: placeholders differ in {broken[:10]}"
