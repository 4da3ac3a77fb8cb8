"""A call detail record's talk with the agent, as the softphones' media relay saw it: from the
agent's first audio to the call's end, the interaction that holds its recording, and the
caller's time on hold (how often, how long, and since when while it lasts).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from hotline.core.storage.models.base import UTCDateTime

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_records') as batch:
        batch.add_column(sa.Column('talk_started_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('talk_ended_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('talk_seconds', sa.Float(), nullable=True))
        batch.add_column(sa.Column('recording_id', ID, nullable=True))
        batch.add_column(sa.Column('holds', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('hold_seconds', sa.Float(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('on_hold_since', UTCDateTime(), nullable=True))
        batch.create_foreign_key(
            'fk_call_records_recording_id_interactions', 'interactions', ['recording_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('call_records') as batch:
        batch.drop_constraint('fk_call_records_recording_id_interactions', type_='foreignkey')
        batch.drop_column('on_hold_since')
        batch.drop_column('hold_seconds')
        batch.drop_column('holds')
        batch.drop_column('recording_id')
        batch.drop_column('talk_seconds')
        batch.drop_column('talk_ended_at')
        batch.drop_column('talk_started_at')
