"""A recording alert e-mail hook for tests (``PSA_ALERT_EMAIL_HOOK = "tests.support.alerts:record"``)."""

from __future__ import annotations

SENT: list = []


def record(email) -> None:
    """Keep the e-mail the push hands over."""
    SENT.append(email)


def explode(email) -> None:
    """A mailer that fails."""
    raise RuntimeError("SMTP server said no")


def redis_key() -> str:
    """The Redis list :func:`to_redis` appends to (per queue prefix)."""
    from msphub_psa.settings import settings

    return f"{settings().queue_prefix}:test-alerts"


def to_redis(email) -> None:
    """Keep ``"<run id>:<status>"`` of the e-mail in Redis (a hook for worker processes; the test reads it)."""
    from msphub_psa.jobqueue import redis_connection

    redis_connection().rpush(redis_key(), f"{email.run_id}:{email.status}")
