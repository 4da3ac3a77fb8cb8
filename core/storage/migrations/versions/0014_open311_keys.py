"""Open311 keys as keyed digests

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

New keys are kept as an HMAC-SHA256 digest (``key_digest``) instead of an argon2 hash. The
secret of an existing key cannot be recovered from its argon2 hash, so those rows keep
``key_hash`` and get their digest at the key's next successful use (``core/apikeys.py``).

Downgrading drops the digests: keys that have only a digest by then stop working (their
``key_hash`` becomes an unusable marker) and must be issued again.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_digest', sa.String(length=64), nullable=True))
        batch_op.alter_column(
            'key_hash', existing_type=sa.String(length=200), nullable=True
        )


def downgrade() -> None:
    # An argon2 verification of "!" always fails: such a key is refused, never accepted.
    op.execute("UPDATE api_clients SET key_hash = '!' WHERE key_hash IS NULL")
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.alter_column(
            'key_hash', existing_type=sa.String(length=200), nullable=False
        )
        batch_op.drop_column('key_digest')
