"""A recording alert e-mail hook for tests (``PSA_ALERT_EMAIL_HOOK = "tests.support.alerts:record"``)."""

from __future__ import annotations

SENT: list = []


def record(email) -> None:
    """Keep the e-mail the push hands over."""
    SENT.append(email)


def explode(email) -> None:
    """A mailer that fails."""
    raise RuntimeError("SMTP server said no")
