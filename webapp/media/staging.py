"""Files written in a database transaction stay only if that transaction commits.

A photo is a row plus stored files. `put_staged` writes the files and remembers them on the
session; when the outermost transaction ends without committing (rollback, error, a request
that closes its session uncommitted) they are deleted, so a file never outlives its row.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.media.storage import MediaStore

log = logging.getLogger(__name__)

# session.info key: (store, key) of files written in the open transaction, not yet committed
STAGED_FILES = "acorn.media.staged_files"


def put_staged(store: MediaStore, files: list[tuple[str, bytes, str]]) -> None:
    """Write `files` (key, data, content type), all or none; they stay if the session commits."""
    written: list[str] = []
    try:
        for key, data, content_type in files:
            store.put(key, data, content_type)
            written.append(key)
    except BaseException:
        for key in written:
            delete_quietly(store, key)
        raise
    db.session.info.setdefault(STAGED_FILES, []).extend((store, key) for key in written)


def delete_quietly(store: MediaStore, key: str) -> None:
    """Delete a stored file, logging (never raising) when that fails."""
    try:
        store.delete(key)
    except Exception:  # noqa: BLE001 - cleanup after a failure must not hide that failure
        log.warning("could not delete media %s", key, exc_info=True)


@event.listens_for(Session, "after_commit")
def _keep_staged(session: Session) -> None:
    """The rows of the staged files are committed: the files stay."""
    if not session.in_nested_transaction():
        session.info.pop(STAGED_FILES, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_or_delete_staged(session: Session, transaction) -> None:
    """An outermost transaction ended without committing: delete the files staged in it."""
    if transaction.parent is None and session.info.get(STAGED_FILES):
        for store, key in session.info.pop(STAGED_FILES):
            delete_quietly(store, key)
