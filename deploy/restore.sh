#!/usr/bin/env bash
# Restore an ACORN backup made by deploy/backup.sh into DATABASE_URL and MEDIA_DIR.
#   deploy/restore.sh BACKUP_DIR
# The target database must exist (createdb); objects in it are replaced (--clean). Stop the
# web, workers and scheduler first, and start them again afterwards.
set -euo pipefail

src="${1:?usage: restore.sh BACKUP_DIR}"
: "${DATABASE_URL:?DATABASE_URL must be set}"
[ -f "$src/database.dump" ] || { echo "no database.dump in $src" >&2; exit 1; }
pg_url="${DATABASE_URL/postgresql+psycopg:\/\//postgresql://}"
pg_url="${pg_url/postgresql+psycopg2:\/\//postgresql://}"

pg_restore --clean --if-exists --no-owner --no-privileges --exit-on-error \
  --single-transaction --dbname="$pg_url" "$src/database.dump"

media_dir="${MEDIA_DIR:-${ACORN_INSTANCE_DIR:-instance}/media}"
if [ -f "$src/media.tar.gz" ]; then
  mkdir -p "$media_dir"
  chmod 700 "$media_dir"
  tar -C "$media_dir" -xzf "$src/media.tar.gz"
fi
echo "restored $src"
