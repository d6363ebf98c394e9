"""Health of the integration's dependencies: database (the plugin's schema at head, the marketplace contract
satisfied), Redis, queues and workers."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from msphub_psa.commands.exceptions import ConflictError
from msphub_psa.daos import schema
from msphub_psa.daos.base import ping_database
from msphub_psa.jobqueue import QueueUnavailable, queue_state


@dataclass
class Health:
    """The result of one health check."""

    database: bool = False
    schema: schema.SchemaState | None = None
    redis: bool = False
    queues: dict[str, int] = field(default_factory=dict)
    workers: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Healthy when the database answers with the plugin's schema at head and the marketplace contract
        satisfied, Redis answers and a worker serves the queues."""
        return self.database and self.schema_ok and self.redis and self.workers > 0

    @property
    def schema_ok(self) -> bool:
        """The plugin's tables at head and the marketplace contract satisfied."""
        return self.schema is not None and self.schema.ok


class CheckHealthCommand:
    """Probe each dependency once; never raises."""

    def run(self) -> Health:
        """Check the database, Redis, queue depths and live workers."""
        health = Health()
        try:
            ping_database()
            health.database = True
            health.schema = schema.state()
        except SQLAlchemyError as exc:
            health.errors.append(f"database: {type(exc).__name__}")
        if health.schema is not None:
            health.errors += schema_errors(health.schema)
        try:
            health.queues, health.workers = queue_state()
            health.redis = True
        except QueueUnavailable as exc:
            health.errors.append(f"redis: {exc}")
        return health


def schema_errors(state: schema.SchemaState) -> list[str]:
    """What is wrong with the plugin's schema or the marketplace contract, one line each."""
    errors = (
        []
        if state.at_head
        else [
            f"schema: the plugin's tables are at {state.current or 'nothing'}, not {state.head}: "
            "run `flask psa db upgrade`"
        ]
    )
    return errors + [f"contract: {problem}" for problem in state.contract_problems]


class SchemaStatusCommand:
    """The plugin's tables and the marketplace contract in this database (``flask psa db check``)."""

    def run(self) -> schema.SchemaState:
        """Where the database stands."""
        return schema.state()

    def problems(self) -> list[str]:
        """What is wrong, one line each (the database not answering included); never raises."""
        try:
            return schema_errors(schema.state())
        except SQLAlchemyError as exc:
            return [f"database: {type(exc).__name__}"]


class MigrateSchemaCommand:
    """Migrate the plugin's tables (``flask psa db upgrade`` / ``downgrade``)."""

    def __init__(self, revision: str = "head", down: bool = False):
        self.revision, self.down = revision, down

    def run(self) -> tuple[str | None, str | None]:
        """(revision before, revision after).

        :raises ConflictError: plugin tables exist that its migrations did not create (the message says what to do).
        """
        try:
            return schema.downgrade(self.revision) if self.down else schema.upgrade(self.revision)
        except schema.SchemaError as exc:
            raise ConflictError(str(exc)) from exc
