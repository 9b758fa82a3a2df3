#!/usr/bin/env bash
# Back up ACORN: the PostgreSQL database (pg_dump custom format) and the photo store.
#   deploy/backup.sh DEST_DIR            -> DEST_DIR/acorn-YYYYmmddTHHMMSSZ/{database.dump,media.tar.gz}
# Reads DATABASE_URL (SQLAlchemy form is fine: postgresql+psycopg://...) and MEDIA_DIR from
# the environment (e.g. `set -a; . /etc/acorn/acorn.env; set +a`). With MEDIA_S3_BUCKET set the
# photos live in the bucket: back them up with the bucket's own versioning or
# `aws s3 sync s3://BUCKET DEST` instead (docs/operations.md).
set -euo pipefail

dest_root="${1:?usage: backup.sh DEST_DIR}"
: "${DATABASE_URL:?DATABASE_URL must be set}"
pg_url="${DATABASE_URL/postgresql+psycopg:\/\//postgresql://}"
pg_url="${pg_url/postgresql+psycopg2:\/\//postgresql://}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
dest="$dest_root/acorn-$stamp"
umask 077
mkdir -p "$dest.partial"

# Custom format: compressed, consistent (one snapshot), restorable table by table.
pg_dump --format=custom --no-owner --no-privileges --file="$dest.partial/database.dump" "$pg_url"

media_dir="${MEDIA_DIR:-${ACORN_INSTANCE_DIR:-instance}/media}"
if [ -z "${MEDIA_S3_BUCKET:-}" ] && [ -d "$media_dir" ]; then
  tar -C "$media_dir" -czf "$dest.partial/media.tar.gz" .
fi

# A finished backup appears under its final name only when every part is written.
mv "$dest.partial" "$dest"
echo "$dest"
