"""Health of the integration's dependencies: database, Redis, queues and workers."""
from __future__ import annotations

from dataclasses import dataclass, field

from redis.exceptions import RedisError
from rq import Worker
from sqlalchemy.exc import SQLAlchemyError

from plugin.daos.base import ping_database
from plugin.jobs import FAST, SYNC, get_queue, redis_connection


@dataclass
class Health:
    """The result of one health check."""

    database: bool = False
    redis: bool = False
    queues: dict[str, int] = field(default_factory=dict)
    workers: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Healthy when the database and Redis answer and a worker serves the queues."""
        return self.database and self.redis and self.workers > 0


class CheckHealthCommand:
    """Probe each dependency once; never raises."""

    def run(self) -> Health:
        """Check the database, Redis, queue depths and live workers."""
        health = Health()
        try:
            ping_database()
            health.database = True
        except SQLAlchemyError as exc:
            health.errors.append(f"database: {type(exc).__name__}")
        try:
            queues = [get_queue(kind) for kind in (FAST, SYNC)]
            health.redis = bool(redis_connection().ping())
            health.queues = {q.name: len(q) for q in queues}
            names = {q.name for q in queues}
            health.workers = sum(1 for w in Worker.all(connection=redis_connection())
                                 if names & set(w.queue_names()))
        except (RedisError, OSError) as exc:
            health.errors.append(f"redis: {type(exc).__name__}")
        return health
