"""`flask translations ...`: keep the English and Simplified Chinese catalogues in step."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from babel.messages.pofile import read_po, write_po

from config import BASE_DIR

TRANSLATIONS = BASE_DIR / "webapp" / "translations"
POT = TRANSLATIONS / "messages.pot"
LOCALES = ("zh_Hans",)


def _po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


@contextmanager
def _catalogue_lock():
    """Serialise edits of the catalogues (several developers' tools may run at once)."""
    with open(TRANSLATIONS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _pybabel(*args: str) -> None:
    subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=BASE_DIR,
        capture_output=True,
    )


def untranslated(locale: str) -> list[str]:
    """Return message ids with no translation (or a fuzzy one) in `locale`."""
    with open(_po_path(locale), "rb") as f:
        catalogue = read_po(f, locale=locale)
    return [
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalogue
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string))
                     or m.fuzzy)
    ]


@click.group("translations")
def translations_cli():
    """Extract, fill, check and compile the message catalogues."""


@translations_cli.command("update")
def update():
    """Extract every marked string and merge it into each catalogue."""
    with _catalogue_lock():
        _pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                 "--no-location", "--sort-output", "-o", str(POT), ".")
        _pybabel("update", "-i", str(POT), "-d", str(TRANSLATIONS), "--no-fuzzy-matching",
                 "--ignore-obsolete")
    for locale in LOCALES:
        click.echo(f"{locale}: {len(untranslated(locale))} untranslated")


@translations_cli.command("fill")
@click.argument("locale")
@click.argument("json_file", type=click.File("r", encoding="utf-8"))
def fill(locale, json_file):
    """Merge translations from JSON_FILE ({"English": "translation", ...}) into LOCALE."""
    pairs = json.load(json_file)
    with _catalogue_lock():
        with open(_po_path(locale), "rb") as f:
            catalogue = read_po(f, locale=locale)
        filled = 0
        for message in catalogue:
            key = message.id if isinstance(message.id, str) else message.id[0]
            if key in pairs:
                value = pairs[key]
                message.string = tuple(value) if isinstance(message.id, tuple) else value
                message.flags.discard("fuzzy")
                filled += 1
        with open(_po_path(locale), "wb") as f:
            write_po(f, catalogue, width=100, omit_header=False)
    click.echo(f"{locale}: filled {filled}; {len(untranslated(locale))} untranslated left")


@translations_cli.command("check")
def check():
    """Fail when any string is untranslated."""
    missing = {loc: untranslated(loc) for loc in LOCALES}
    for locale, ids in missing.items():
        for msgid in ids:
            click.echo(f"{locale}: untranslated: {msgid}")
    if any(missing.values()):
        raise SystemExit(1)
    click.echo("all strings translated")


@translations_cli.command("compile")
def compile_():
    """Compile the catalogues to .mo files."""
    _pybabel("compile", "-d", str(TRANSLATIONS))
