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


# --- ship plans, cartons, pallets, loading scans, dispatch photos (issue 11, ship-plan engineer) --


def _upgrade_ship_plans():
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('selling_party_id', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('shipment_type', sa.String(length=24), nullable=False, server_default='LessThanTruckLoad'))
        batch_op.add_column(sa.Column('confirmation_type', sa.String(length=8), nullable=False, server_default='Original'))
        batch_op.add_column(sa.Column('asn_submitted_at', webapp.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_shipments_created_by_id_users'), 'users', ['created_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_shipments_vendor_status', ['vendor_id', 'status'], unique=False)

    op.create_table('shipment_pallets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('sequence_number', sa.Integer(), nullable=False),
    sa.Column('sscc', sa.String(length=18), nullable=False),
    sa.Column('weight_value', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('weight_unit', sa.String(length=4), nullable=True),
    sa.Column('length', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('width', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('height', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('dimension_unit', sa.String(length=8), nullable=True),
    sa.Column('scanned_at', webapp.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_shipment_pallets_shipment_id_shipments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_shipment_pallets_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_pallets')),
    sa.UniqueConstraint('sscc', name=op.f('uq_shipment_pallets_sscc'))
    )
    with op.batch_alter_table('shipment_pallets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_pallets_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_pallets_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('shipment_cartons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('pallet_id', sa.Integer(), nullable=True),
    sa.Column('sequence_number', sa.Integer(), nullable=False),
    sa.Column('sscc', sa.String(length=18), nullable=False),
    sa.Column('weight_value', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('weight_unit', sa.String(length=4), nullable=True),
    sa.Column('length', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('width', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('height', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('dimension_unit', sa.String(length=8), nullable=True),
    sa.Column('tracking_number', sa.String(length=64), nullable=True),
    sa.Column('scanned_at', webapp.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('excluded', sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.ForeignKeyConstraint(['pallet_id'], ['shipment_pallets.id'], name=op.f('fk_shipment_cartons_pallet_id_shipment_pallets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_shipment_cartons_shipment_id_shipments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_shipment_cartons_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_cartons')),
    sa.UniqueConstraint('sscc', name=op.f('uq_shipment_cartons_sscc'))
    )
    with op.batch_alter_table('shipment_cartons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_cartons_pallet_id'), ['pallet_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_cartons_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_cartons_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('shipment_carton_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('carton_id', sa.Integer(), nullable=False),
    sa.Column('shipment_item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_of_measure', sa.String(length=8), nullable=False),
    sa.Column('unit_size', sa.Integer(), nullable=True),
    sa.Column('eaches', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['carton_id'], ['shipment_cartons.id'], name=op.f('fk_shipment_carton_items_carton_id_shipment_cartons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_item_id'], ['shipment_items.id'], name=op.f('fk_shipment_carton_items_shipment_item_id_shipment_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_carton_items'))
    )
    with op.batch_alter_table('shipment_carton_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_carton_items_carton_id'), ['carton_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_carton_items_shipment_item_id'), ['shipment_item_id'], unique=False)

    op.create_table('shipment_scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('scanned_at', webapp.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_shipment_scans_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_scans')),
    sa.UniqueConstraint('shipment_id', 'code', name=op.f('uq_shipment_scans_shipment_id_code'))
    )
    with op.batch_alter_table('shipment_scans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_scans_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('shipment_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('storage_key', sa.String(length=128), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', webapp.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_shipment_photos_shipment_id_shipments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_shipment_photos_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_shipment_photos_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_photos')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_shipment_photos_storage_key'))
    )
    with op.batch_alter_table('shipment_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_photos_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_photos_vendor_id'), ['vendor_id'], unique=False)


def _downgrade_ship_plans():
    op.drop_table('shipment_photos')
    op.drop_table('shipment_scans')
    op.drop_table('shipment_carton_items')
    op.drop_table('shipment_cartons')
    op.drop_table('shipment_pallets')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index('ix_shipments_vendor_status')
        batch_op.drop_constraint(batch_op.f('fk_shipments_created_by_id_users'), type_='foreignkey')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('asn_submitted_at')
        batch_op.drop_column('confirmation_type')
        batch_op.drop_column('shipment_type')
        batch_op.drop_column('selling_party_id')

# --- end of the ship-plan block ----------------------------------------------------------------


# --- SSCC serials: GS1 company prefix and serial counters (issue 11, labels/SSCC engineer) -----


def _upgrade_sscc():
    with op.batch_alter_table('vendors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gs1_company_prefix', sa.String(length=10), nullable=True))

    op.create_table('sscc_counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_prefix', sa.String(length=10), nullable=False),
    sa.Column('extension_digit', sa.SmallInteger(), nullable=False),
    sa.Column('next_serial', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', webapp.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sscc_counters')),
    sa.UniqueConstraint('company_prefix', 'extension_digit', name=op.f('uq_sscc_counters_company_prefix_extension_digit'))
    )


def _downgrade_sscc():
    op.drop_table('sscc_counters')
    with op.batch_alter_table('vendors', schema=None) as batch_op:
        batch_op.drop_column('gs1_company_prefix')

# --- end of the SSCC block ----------------------------------------------------------------------


def upgrade():
    _upgrade_ship_plans()  # ship-plan engineer's block, above
    _upgrade_sscc()  # SSCC block, above


def downgrade():
    _downgrade_sscc()  # SSCC block, above
    _downgrade_ship_plans()  # ship-plan engineer's block, above
