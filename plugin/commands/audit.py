"""Audit log: the tenant-scoped list and the streamed CSV export (page, API and CLI)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

from msphub_psa import permissions
from msphub_psa.commands.access import partner_of, require_permission, visible_partner
from msphub_psa.commands.base import BaseCommand
from msphub_psa.commands.exceptions import ForbiddenError
from msphub_psa.daos.audit import EXPORT_COLUMNS, AuditDAO
from msphub_psa.domain.actor import Actor

log = logging.getLogger(__name__)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def audit_scope(actor: Actor, partner_id: int | None) -> int | None:
    """The partner whose events the actor may read: Admin any (None = all), partner users their own.

    :raises ForbiddenError: no read permission on the audit log, or not a partner user.
    :raises NotFoundError: an unknown partner, or another tenant's.
    """
    require_permission(actor, permissions.READ, permissions.AUDIT)
    if actor.is_admin:
        return None if partner_id is None else visible_partner(actor, partner_id).id
    if actor.partner_id is None:
        raise ForbiddenError("The audit log is for the platform Admin and partner users.")
    return partner_of(actor, partner_id)


class AuditListCommand(BaseCommand):
    """One page of the audit log, newest first."""

    def __init__(self, actor: Actor, filters: dict, page: int = 1, page_size: int = 50):
        self.actor, self.filters, self.page, self.page_size = actor, dict(filters), page, page_size
        self.partner_id: int | None = None

    def validate(self) -> None:
        """Resolve the tenant scope."""
        self.partner_id = audit_scope(self.actor, self.filters.pop("partner_id", None))

    def run(self) -> tuple[int, list]:
        """The total and the page."""
        self.validate()
        return AuditDAO.page(self.partner_id, self.filters, self.page, self.page_size)


class ExportAuditCommand(BaseCommand):
    """The audit log as CSV lines, streamed (header first), tenant-scoped, same filters as the list."""

    def __init__(self, actor: Actor, filters: dict):
        self.actor, self.filters = actor, dict(filters)
        self.partner_id: int | None = None

    def validate(self) -> None:
        """Resolve the tenant scope (before the first byte is sent, so errors are clean 4xx)."""
        self.partner_id = audit_scope(self.actor, self.filters.pop("partner_id", None))

    def run(self) -> Iterator[str]:
        """Validate now; return the generator of CSV lines."""
        self.validate()
        log.info(
            "audit export by %s partner=%s filters=%s",
            self.actor.username,
            self.partner_id if self.partner_id is not None else "all",
            sorted(self.filters),
        )
        return self._lines()

    def _lines(self) -> Iterator[str]:
        """The header, then one line per event."""
        yield csv_line(EXPORT_COLUMNS)
        for row in AuditDAO.stream(self.partner_id, self.filters):
            yield csv_line([_cell(getattr(row, name)) for name in EXPORT_COLUMNS])


def csv_line(values) -> str:
    """One CSV line (RFC 4180 quoting, CRLF)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def _cell(value: Any) -> str:
    """A value as CSV text; text that a spreadsheet would run as a formula is prefixed with '."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    text = json.dumps(value, sort_keys=True, default=str) if isinstance(value, (dict, list)) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
