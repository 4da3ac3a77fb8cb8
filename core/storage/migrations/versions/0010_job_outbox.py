"""Follow-up work written in the same transaction as its cause (the job outbox); the lookup
code taken out of stored acknowledgements

Acknowledgements stored before this held the citizen's lookup code in their text, which every
agent reads; it is replaced by the mask (the message, if still waiting, gets the code when it
is sent). The codes cannot come back on downgrade: they derive from the secret key.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('job', sa.String(length=100), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claim', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_job_outbox_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_job_outbox_key'))
    )
    with op.batch_alter_table('job_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_outbox_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_job_outbox_state_lease', ['state', 'lease_until'], unique=False)

    _scrub_lookup_codes()


# the code after the words of the English and the Chinese acknowledgement
CODE = re.compile(r"(lookup code is |查询码为 ?)(\d{6})")
MASK = "******"


def _scrub_lookup_codes() -> None:
    interactions = sa.table(
        "interactions",
        sa.column("id", sa.Integer),
        sa.column("direction", sa.String),
        sa.column("text", sa.Text),
        sa.column("meta", sa.JSON),
    )
    bind = op.get_bind()
    found = bind.execute(
        sa.select(interactions.c.id, interactions.c.text, interactions.c.meta).where(
            interactions.c.direction == "out",
            sa.or_(
                interactions.c.text.like("%lookup code is %"),
                interactions.c.text.like("%查询码为%"),
            ),
        )
    ).all()
    for row_id, text, meta in found:
        meta = dict(meta or {})
        if meta.get("purpose") != "acknowledgement":
            continue
        masked = CODE.sub(lambda m: m.group(1) + MASK, text, count=1)
        if masked != text:
            meta["lookup_code"] = True
            bind.execute(
                interactions.update()
                .where(interactions.c.id == row_id)
                .values(text=masked, meta=meta)
            )


def downgrade() -> None:
    with op.batch_alter_table('job_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_job_outbox_state_lease')
        batch_op.drop_index(batch_op.f('ix_job_outbox_case_id'))

    op.drop_table('job_outbox')
