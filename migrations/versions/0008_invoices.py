"""invoices: pre-flight checks, OCR prefill, submission and status (issue 7)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 12:00:00

"""
import sqlalchemy as sa
from alembic import op

import webapp.db_types

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

HOLDS_NUMBER = sa.text("status IN ('pending', 'accepted')")


def upgrade():
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint('uq_invoices_vendor_id_invoice_number', type_='unique')
        batch_op.alter_column('invoice_number', existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column('tax_type', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('charge_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('allowance_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('reference_invoice_number', sa.String(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False,
                                      server_default='1'))
        batch_op.add_column(sa.Column('entered_fields', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('ocr_fields', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('errors', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('submitted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', webapp.db_types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('submitted_at', webapp.db_types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('completed_at', webapp.db_types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_invoices_submitted_by_id_users'), 'users',
                                    ['submitted_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.alter_column('version', server_default=None)
        batch_op.create_index('ix_invoices_vendor_number_sent', ['vendor_id', 'invoice_number'],
                              unique=True, sqlite_where=HOLDS_NUMBER,
                              postgresql_where=HOLDS_NUMBER)
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quantity_eaches', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_column('quantity_eaches')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoices_vendor_number_sent')
        batch_op.drop_constraint(batch_op.f('fk_invoices_submitted_by_id_users'),
                                 type_='foreignkey')
        for column in ('completed_at', 'submitted_at', 'updated_at', 'submitted_by_id',
                       'errors', 'ocr_fields', 'entered_fields', 'version',
                       'reference_invoice_number', 'allowance_type', 'charge_type', 'tax_type'):
            batch_op.drop_column(column)
    # Drafts without a number (or sharing one) cannot go back under the old constraint.
    op.execute("UPDATE invoices SET invoice_number = 'DRAFT-' || id WHERE invoice_number IS NULL")
    op.execute("UPDATE invoices SET invoice_number = invoice_number || '-' || id WHERE id NOT IN "
               "(SELECT MIN(id) FROM invoices GROUP BY vendor_id, invoice_number)")
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.alter_column('invoice_number', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.create_unique_constraint('uq_invoices_vendor_id_invoice_number',
                                          ['vendor_id', 'invoice_number'])
