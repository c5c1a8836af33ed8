"""procrastinate: the job queue's schema, on PostgreSQL only

On SQLite the worker's tasks run in-process and there is no queue: this revision does
nothing there (it is still recorded, so both databases have the same head).

The SQL is the schema of the installed procrastinate (pinned in pyproject.toml), from
`App.schema_manager.get_schema()`. It is the schema of procrastinate WRITTEN_FOR below; a
test fails when another version is installed. Upgrading procrastinate then takes a new
revision that runs procrastinate's own migration files between the two versions
(`procrastinate schema --migrations-path`), and this revision must be frozen at the old
version's schema.sql, so that a fresh database and an upgraded one end up the same.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:40:00
"""

from collections.abc import Sequence

import procrastinate
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WRITTEN_FOR = "3.10.0"

# Everything procrastinate 3.10's schema.sql creates (tables, their triggers and indexes
# go with DROP TABLE ... CASCADE).
TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
FUNCTIONS = (
    "procrastinate_defer_jobs_v1",
    "procrastinate_defer_periodic_job_v2",
    "procrastinate_fetch_job_v2",
    "procrastinate_finish_job_v1",
    "procrastinate_cancel_job_v1",
    "procrastinate_retry_job_v1",
    "procrastinate_retry_job_v2",
    "procrastinate_notify_queue_job_inserted_v1",
    "procrastinate_notify_queue_abort_job_v1",
    "procrastinate_trigger_function_status_events_insert_v1",
    "procrastinate_trigger_function_status_events_update_v1",
    "procrastinate_trigger_function_scheduled_events_v1",
    "procrastinate_trigger_abort_requested_events_procedure_v1",
    "procrastinate_unlink_periodic_defers_v1",
    "procrastinate_register_worker_v1",
    "procrastinate_unregister_worker_v1",
    "procrastinate_update_heartbeat_v1",
    "procrastinate_prune_stalled_workers_v1",
)
TYPES = (
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
)


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if not _on_postgresql():
        return
    # The connector is never opened: the app only hands out its schema.
    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())
    # Many statements with `%` in them: sent as they are, without parameter processing.
    op.get_bind().exec_driver_sql(
        app.schema_manager.get_schema(), execution_options={"no_parameters": True}
    )


def downgrade() -> None:
    if not _on_postgresql():
        return
    op.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)} CASCADE")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute(f"DROP TYPE IF EXISTS {', '.join(TYPES)}")
