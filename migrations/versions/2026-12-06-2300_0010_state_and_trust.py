"""state and trust: single use of an online pass held by the database, final webhook endpoint deletion,
a keyed audit chain and its signed checkpoints

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:00:00

Audit entries written before this stay verifiable (plain SHA-256, key_id NULL) as long as they come before
a chain's first keyed entry; the first checkpoint signs every chain's head, old ones included.

The unique index fails if a database already holds two online verifications of one pass (the replay the
store alone could let through after losing a key): find them with
``SELECT pass_id FROM verifications WHERE mode = 'online' GROUP BY pass_id HAVING count(*) > 1`` first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.core.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONLINE = "mode = 'online'"
APPEND_ONLY = ('audit_checkpoints', 'audit_checkpoint_heads')


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for verb in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    else:  # the function audit_entries_append_only() of 0001 raises for any table
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )


def upgrade() -> None:
    op.create_index(
        'uq_verifications_online_pass',
        'verifications',
        ['pass_id'],
        unique=True,
        postgresql_where=sa.text(ONLINE),
        sqlite_where=sa.text(ONLINE),
    )
    op.add_column(
        'webhook_endpoints',
        sa.Column('deleted_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    )


    op.add_column(
        'audit_entries', sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
    )
    op.create_table(
        'audit_checkpoints',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('chains', sa.Integer(), nullable=False),
        sa.Column('heads_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('prev_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
        sa.UniqueConstraint('seq', name=op.f('uq_audit_checkpoints_seq')),
    )
    op.create_table(
        'audit_checkpoint_heads',
        sa.Column('checkpoint_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('chain', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('entry_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ['checkpoint_id'],
            ['audit_checkpoints.id'],
            name=op.f('fk_audit_checkpoint_heads_checkpoint_id_audit_checkpoints'),
        ),
        sa.PrimaryKeyConstraint('checkpoint_id', 'chain', name=op.f('pk_audit_checkpoint_heads')),
    )
    op.create_index(
        'ix_audit_checkpoint_heads_chain_seq', 'audit_checkpoint_heads', ['chain', 'seq'], unique=False
    )
    for table in APPEND_ONLY:
        _append_only(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
        else:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.drop_index('ix_audit_checkpoint_heads_chain_seq', table_name='audit_checkpoint_heads')
    op.drop_table('audit_checkpoint_heads')
    op.drop_table('audit_checkpoints')
    op.drop_column('audit_entries', 'key_id')
    op.drop_column('webhook_endpoints', 'deleted_at')
    op.drop_index('uq_verifications_online_pass', table_name='verifications')
