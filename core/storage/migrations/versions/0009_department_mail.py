"""Departments' mailboxes, and which notices went out by e-mail

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True))
    # the notices written before are not sent now
    op.execute("UPDATE notices SET emailed_at = at")


def downgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_column('emailed_at')

    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_column('email')
