"""Reply templates: ready answers agents start their reply from, in both languages, for one
service or for all.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

from hotline.core.storage.models.base import UTCDateTime


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reply_templates',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('title_zh', sa.String(length=200), nullable=False),
        sa.Column('title_en', sa.String(length=200), nullable=False),
        sa.Column('body_zh', sa.Text(), nullable=False),
        sa.Column('body_en', sa.Text(), nullable=False),
        sa.Column('category_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['service_categories.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reply_templates_category_id', 'reply_templates', ['category_id'])


def downgrade() -> None:
    op.drop_index('ix_reply_templates_category_id', table_name='reply_templates')
    op.drop_table('reply_templates')
