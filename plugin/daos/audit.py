"""The audit trail."""
from __future__ import annotations

from plugin.daos.base import BaseDAO
from plugin.models.psa import AuditEvent


class AuditDAO(BaseDAO[AuditEvent]):
    """Append-only audit events."""

    model_cls = AuditEvent
