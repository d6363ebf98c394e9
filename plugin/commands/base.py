"""What every command shares: the actor, the transaction and the audit record."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm.exc import StaleDataError

from msphub_psa import clock
from msphub_psa.commands.exceptions import ConflictError
from msphub_psa.daos.audit import AuditDAO
from msphub_psa.daos.base import session
from msphub_psa.domain.actor import Actor

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def transaction(func: F) -> F:
    """Run ``func`` in one transaction: commit on success, roll back on any error."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = func(*args, **kwargs)
            session().commit()
            return result
        except StaleDataError as exc:
            session().rollback()
            raise ConflictError("This record was changed by someone else; reload and try again.") from exc
        except BaseException:  # roll back whatever failed, then let it propagate unchanged
            session().rollback()
            raise

    return wrapper  # type: ignore[return-value]


def audit(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any = None,
    *,
    partner_id: int | None = None,
    distributor_id: int | None = None,
    outcome: str = "ok",
    **detail: Any,
) -> None:
    """Add an audit event to the current transaction (written with its next flush or its commit)."""
    AuditDAO.add(
        user_id=actor.user_id,
        username=actor.username,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        partner_id=partner_id,
        distributor_id=distributor_id,
        outcome=outcome,
        detail=scrub(detail) or None,
    )
    _log_audit(actor, action, object_type, object_id, partner_id, outcome, detail.get("job_id"))


def _log_audit(
    actor: Actor, action: str, object_type: str, object_id: Any, partner_id: int | None, outcome: str, job_id=None
) -> None:
    """The audit event's log line, with its fields for structured logs."""
    log.info(
        "audit action=%s object=%s:%s partner=%s user=%s outcome=%s",
        action,
        object_type,
        object_id,
        partner_id,
        actor.username,
        outcome,
        extra=_log_fields(
            action=action,
            object_type=object_type,
            object_id=object_id,
            partner_id=partner_id,
            user=actor.username,
            outcome=outcome,
            job_id=job_id,
        ),
    )


def audit_many(
    actor: Actor, action: str, object_type: str, events: list[tuple[Any, dict[str, Any]]], *, partner_id: int
) -> None:
    """Audit events of one action on many objects (``(object_id, detail)`` each), written in one statement."""
    AuditDAO.insert_all(
        [
            {
                "at": clock.now(),
                "user_id": actor.user_id,
                "username": actor.username,
                "action": action,
                "object_type": object_type,
                "object_id": None if object_id is None else str(object_id),
                "partner_id": partner_id,
                "distributor_id": None,
                "outcome": "ok",
                "detail": scrub(detail) or None,
            }
            for object_id, detail in events
        ]
    )
    for object_id, _detail in events:
        _log_audit(actor, action, object_type, object_id, partner_id, "ok")


def _log_fields(**fields: Any) -> dict:
    """``extra=`` for a log call: the fields that have a value (bound context fills the rest)."""
    return {k: (str(v) if k == "object_id" else v) for k, v in fields.items() if v is not None}


_SECRET_KEY = re.compile(r"private|secret|passw|token|credential|authori[sz]ation|api_?key|fernet", re.I)
REDACTED = "[redacted]"


@functools.lru_cache(maxsize=1024)
def _secret_key(key: str) -> bool:
    """Whether an audit detail's key sounds secret (the few keys repeat over thousands of events)."""
    return _SECRET_KEY.search(key) is not None


def scrub(value: Any) -> Any:
    """A copy of an audit detail with every value under a secret-sounding key replaced (at any depth)."""
    if isinstance(value, dict):
        return {k: REDACTED if _secret_key(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


def rollback() -> None:
    """End the current transaction without keeping anything (a request the database refused)."""
    session().rollback()


@transaction
def audit_refusal(
    actor: Actor, action: str, object_type: str, object_id: Any, reason: str, partner_id: int | None = None
) -> None:
    """Record, in its own transaction, that a command was refused."""
    audit(actor, action, object_type, object_id, partner_id=partner_id, outcome="refused", reason=reason)


class BaseCommand:
    """A use case: ``validate()`` loads and checks, ``run()`` validates then acts."""

    def validate(self) -> None:
        """Check existence, tenancy, permission and business rules.

        :raises CommandError: when the command must not run.
        """
        raise NotImplementedError

    def run(self) -> Any:
        """Validate, then perform the use case in one transaction."""
        raise NotImplementedError
