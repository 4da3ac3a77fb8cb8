"""Mail cursors (where reading each mailbox stopped) and held messages (needing a person)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:06:45.603448
"""
from alembic import op
import sqlalchemy as sa



revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mail_cursors',
    sa.Column('mailbox', sa.String(length=64), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
    sa.Column('last_uid', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('mailbox', name=op.f('pk_mail_cursors'))
    )
    op.create_table('held_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_held_messages_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_messages'))
    )
    with op.batch_alter_table('held_messages', schema=None) as batch_op:
        batch_op.create_index('ix_held_messages_state', ['state', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('held_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_held_messages_state')

    op.drop_table('held_messages')
    op.drop_table('mail_cursors')
