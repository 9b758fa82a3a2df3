"""shipments: ship plans, cartons, SSCC serials, dispatch evidence (issue 11)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
