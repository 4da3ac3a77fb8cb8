"""the case workflow: assignments, calendar, routing rules, notices

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:24:41.738390
"""
from alembic import op
import sqlalchemy as sa



revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    op.create_table('routing_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('pattern', sa.String(length=200), nullable=False),
    sa.Column('department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['service_categories.id'], name=op.f('fk_routing_rules_category_id_service_categories')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_routing_rules_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules'))
    )
    op.create_table('assignments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sign_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply_text', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('sent_back', sa.Integer(), nullable=False),
    sa.Column('urged', sa.Integer(), nullable=False),
    sa.Column('extension_days', sa.Integer(), nullable=True),
    sa.Column('extension_reason', sa.Text(), nullable=False),
    sa.Column('extension_state', sa.String(length=16), nullable=True),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_assignments_case_id_cases')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_assignments_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_assignments_department_state', ['department_id', 'state'], unique=False)
        batch_op.create_index('ix_assignments_due_reply', ['state', 'overdue', 'reply_deadline'], unique=False)
        batch_op.create_index('ix_assignments_due_sign', ['state', 'overdue', 'sign_deadline'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_assignments_open_reply', 'assignments', ['reply_deadline'], postgresql_where=sa.text("state IN ('dispatched', 'accepted') AND NOT overdue"))
        op.create_index('ix_assignments_open_sign', 'assignments', ['sign_deadline'], postgresql_where=sa.text("state = 'dispatched' AND NOT overdue"))

    op.create_table('case_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('other_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_links_case_id_cases')),
    sa.ForeignKeyConstraint(['other_id'], ['cases.id'], name=op.f('fk_case_links_other_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_links')),
    sa.UniqueConstraint('case_id', 'other_id', name=op.f('uq_case_links_case_id_other_id'))
    )
    with op.batch_alter_table('case_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_links_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_links_other_id'), ['other_id'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_notices_author_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notices_case_id_cases')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_notices_department_id_departments')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notices_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_at', ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('route_reason', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('supervised', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('overdue', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('direct_callback', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('reopened', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_index('ix_cases_status_answered', ['status', 'answered_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_merged_into_id_cases'), 'cases', ['merged_into_id'], ['id'])

    with op.batch_alter_table('service_categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auto_dispatch', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notices_read_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('notices_read_at')

    with op.batch_alter_table('service_categories', schema=None) as batch_op:
        batch_op.drop_column('auto_dispatch')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_merged_into_id_cases'), type_='foreignkey')
        batch_op.drop_index('ix_cases_status_answered')
        batch_op.drop_index(batch_op.f('ix_cases_merged_into_id'))
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('reopened')
        batch_op.drop_column('direct_callback')
        batch_op.drop_column('overdue')
        batch_op.drop_column('supervised')
        batch_op.drop_column('route_reason')

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_user_id'))
        batch_op.drop_index(batch_op.f('ix_notices_department_id'))
        batch_op.drop_index('ix_notices_at')

    op.drop_table('notices')
    with op.batch_alter_table('case_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_links_other_id'))
        batch_op.drop_index(batch_op.f('ix_case_links_case_id'))

    op.drop_table('case_links')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_due_sign')
        batch_op.drop_index('ix_assignments_due_reply')
        batch_op.drop_index('ix_assignments_department_state')
        batch_op.drop_index(batch_op.f('ix_assignments_case_id'))

    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_assignments_open_sign', table_name='assignments')
        op.drop_index('ix_assignments_open_reply', table_name='assignments')
    op.drop_table('assignments')
    op.drop_table('routing_rules')
    op.drop_table('calendar_days')
