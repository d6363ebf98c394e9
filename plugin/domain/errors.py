"""Typed errors of the domain layer.

Every error raised on purpose by ``msphub_psa.domain`` derives from :class:`DomainError`,
so a command can map the whole family to a ``CommandError`` (with its HTTP status)
in one place. The messages are written for the partner: a page may show them as is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date


class DomainError(Exception):
    """Base of every error the domain layer raises on purpose."""


class RuleValidationError(DomainError):
    """A product rule is invalid; ``errors`` maps a field path to its messages."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        """Keep the field-keyed messages; the text joins them all."""
        self.errors: dict[str, list[str]] = {key: list(msgs) for key, msgs in errors.items()}
        super().__init__("; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in self.errors.items()))


class FromDateError(DomainError):
    """Base of the From Date errors; ``lower`` and ``upper`` are the bounds involved."""

    def __init__(self, message: str, lower: date, upper: date) -> None:
        """Keep the message and the bounds, so a page can show the range its own way."""
        super().__init__(message)
        self.lower = lower
        self.upper = upper


class EmptyFromDateRangeError(FromDateError):
    """No From Date is possible: the earliest allowed date is after today."""


class FromDateOutOfRangeError(FromDateError):
    """A custom From Date lies outside the allowed range (``lower``..``upper``)."""


class AlreadyMappedError(DomainError):
    """Auto-association was asked for a subscription that already has a mapping."""


class IllegalTransitionError(DomainError):
    """An outbox row was asked to make a transition its state does not allow."""


class PayloadError(DomainError):
    """A transaction cannot be turned into a ConnectWise payload as asked."""
