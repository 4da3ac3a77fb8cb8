"""An agent's desk phone may register to the hotline's registrar with an extension (the desk
phone field) and a password set in the profile, kept only as the SIP digest's HA1
(MD5 of "extension:hotline:password"), which the registrar needs to check it.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agent_presence') as batch:
        batch.add_column(sa.Column('desk_ha1', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agent_presence') as batch:
        batch.drop_column('desk_ha1')
