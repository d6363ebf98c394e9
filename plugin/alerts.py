"""The billing sync's alert e-mail: what it carries, and the demo's hook that only logs it.

``PSA_ALERT_EMAIL_HOOK`` names a callable (``package.module:function`` or ``package.module.function``)
that receives one ``AlertEmail``; the host plugs its mailer in there. The default logs one structured
line ("would send ..."). The e-mail carries the run's ids, status, counts and error text only: never
credentials. An empty setting turns the e-mail off.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertEmail:
    """One alert about a billing sync run that ended failed, partial, stopped or abandoned."""

    to: tuple[str, ...]
    subject: str
    body: str
    partner_id: int
    partner_name: str
    run_id: int
    status: str
    counts: dict = field(default_factory=dict)
    link: str = ""
    drift: dict = field(default_factory=dict)
    """Revenue assurance's open findings at the time: ``{records, amount, by_code}`` (records 0 when none)."""

    def as_dict(self) -> dict:
        """Plain values (for a mailer or a log line)."""
        return {**asdict(self), "to": list(self.to)}


def load_hook(path: str | None) -> Callable[[AlertEmail], object] | None:
    """The callable named by ``path``, or None when the setting is empty.

    :raises ImportError: / AttributeError: when the path names nothing.
    """
    if not path:
        return None
    module, sep, name = path.partition(":")
    if not sep:
        module, _dot, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def log_alert_email(email: AlertEmail) -> None:
    """The demo's hook: log the e-mail that would be sent, as one structured line."""
    log.info(
        "would send to %s: %s",
        ", ".join(email.to) or "(no recipients)",
        email.subject,
        extra={
            "alert_to": list(email.to),
            "alert_subject": email.subject,
            "run_id": email.run_id,
            "partner_id": email.partner_id,
            "run_status": email.status,
            "run_counts": email.counts,
            "alert_link": email.link,
        },
    )
