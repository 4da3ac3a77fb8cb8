"""Whether an agent talked to the target of a transfer before handing the caller over (an
attended transfer): the call's detail record tells blind and attended transfers apart.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_transfers') as batch:
        batch.add_column(
            sa.Column('attended', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('call_transfers') as batch:
        batch.drop_column('attended')
