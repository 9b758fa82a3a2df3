"""invoice photos: safe storage, thumbnails and OCR state (issue 7)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invoice_photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thumbnail_key', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('original_filename', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('ocr_error', sa.String(length=500), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_invoice_photos_thumbnail_key'), ['thumbnail_key'])
        batch_op.create_index(batch_op.f('ix_invoice_photos_ocr_state'), ['ocr_state'], unique=False)


def downgrade():
    with op.batch_alter_table('invoice_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_photos_ocr_state'))
        batch_op.drop_constraint(batch_op.f('uq_invoice_photos_thumbnail_key'), type_='unique')
        batch_op.drop_column('ocr_error')
        batch_op.drop_column('original_filename')
        batch_op.drop_column('thumbnail_key')
