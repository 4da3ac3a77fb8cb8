"""Which leg of a citizen's call a call detail record is: the call as it arrived at the line
(""), the new call an agent's transfer made ("transferred") or a call an agent placed to a
citizen ("outbound"). The line's figures count a citizen's call once, by its arrival.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_records') as batch:
        batch.add_column(sa.Column('leg', sa.String(length=16), nullable=False, server_default=''))
    # the records written before: an agent's call is named dial-…; a transfer's leg has a menu
    # path that begins with "transferred" (JSON text on SQLite, json on PostgreSQL)
    op.execute("UPDATE call_records SET leg = 'outbound' WHERE call_id LIKE 'dial-%'")
    path = sa.cast(sa.column('menu_path'), sa.Text)
    records = sa.table('call_records', sa.column('leg'), sa.column('menu_path'))
    op.execute(
        records.update()
        .where(sa.func.replace(path, ' ', '').like('["transferred"%'))
        .values(leg='transferred')
    )


def downgrade() -> None:
    with op.batch_alter_table('call_records') as batch:
        batch.drop_column('leg')
