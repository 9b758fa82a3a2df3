"""invoices: pre-flight checks, OCR prefill, submission and status (issue 7)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
