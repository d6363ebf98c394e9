"""The neutral errors of a PSA call; an adapter maps its own errors onto them, once.

Tree::

    PsaError              base: .code .message .status .fields (the refused fields, if the PSA said)
    |-- RunStopping       concerns every row (credentials refused, address refused): the run stops
    |   `-- Forbidden     the API user's role forbids this call (a move fails that row only)
    |-- Transient         try again later (rate limited, timed out, server error, connection lost);
    |                     ``outcome_unknown``: a write may have landed although it raised
    `-- Permanent         the PSA refused this record (validation): the row fails with code and message
        `-- NotFound      no such record
"""

from __future__ import annotations


class PsaError(Exception):
    """Base of every PSA error."""

    outcome_unknown = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: tuple[str, ...] = (),
        detail: str | None = None,
    ) -> None:
        super().__init__(detail or message)
        self.message, self.code, self.status, self.fields = message, code, status, fields
        self.detail = detail or message

    def __str__(self) -> str:
        """The adapter's full text (code, message, status, request id)."""
        return self.detail


class RunStopping(PsaError):
    """An error that concerns every row: the run stops, rows stay pending."""


class Forbidden(RunStopping):
    """The API user's role forbids this call."""


class Transient(PsaError):
    """Worth trying again later; ``retry_after`` seconds when the PSA said."""

    def __init__(
        self, message: str, *, outcome_unknown: bool = False, retry_after: float | None = None, **kw: object
    ) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.outcome_unknown, self.retry_after = outcome_unknown, retry_after


class Permanent(PsaError):
    """The PSA refused this record; retrying the same call cannot help."""


class NotFound(Permanent):
    """No such record."""
