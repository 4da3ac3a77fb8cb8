"""Separation of duties and sign-in safety: approvals by the director's office, TOTP time steps,
session epochs; sealed letters leave the agents' queue

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False)
        )

    op.create_table(
        'account_requests',
        sa.Column('id', Id, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('requested_by', Id, nullable=False),
        sa.Column('user_id', Id, nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('decided_by', Id, nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['requested_by'], ['users.id'], name=op.f('fk_account_requests_requested_by_users')
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_account_requests_user_id_users')
        ),
        sa.ForeignKeyConstraint(
            ['decided_by'], ['users.id'], name=op.f('fk_account_requests_decided_by_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_requests')),
    )
    op.create_index('ix_account_requests_state', 'account_requests', ['state', 'at'], unique=False)

    # Letters to the director were queued for agents: they leave the queue (the office reads
    # them in its mailbox). Nothing is deleted; the items are marked done.
    op.execute(
        "UPDATE queue_items SET state = 'done', agent_id = NULL, offered_at = NULL, "
        "offer_expires_at = NULL WHERE state != 'done' AND case_id IN "
        "(SELECT id FROM cases WHERE sealed)"
    )


def downgrade() -> None:
    op.drop_index('ix_account_requests_state', table_name='account_requests')
    op.drop_table('account_requests')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
        batch_op.drop_column('totp_last_step')
