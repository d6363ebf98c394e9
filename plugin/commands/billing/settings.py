"""A partner's sync settings: the schedule, approval before each push, the ConnectWise request limit.

A partner without a settings row has the defaults: a daily schedule at ``PSA_SCHEDULE_DEFAULT_TIME``
(06:00) in the partner's timezone, every day; approval ``default``; the operator's request limit.

**Approval** has three modes. ``always`` and ``never`` are the partner's explicit choice. ``default``
(what a partner starts with) requires approval **until the first push has succeeded** (ConnectWise
holds at least one record we pushed for the partner), and not after: the default flips from on to
off by itself at that moment, and the settings page says which applies now.

**Request limit**: requests per minute to the partner's ConnectWise, shared by every worker; at most
the operator's ``PSA_CW_REQUESTS_PER_MINUTE`` (the default; 0 there means no operator cap).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from msphub_psa import clock
from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.billing.common import SyncReadCommand, sync_scope
from msphub_psa.commands.exceptions import InvalidInputError
from msphub_psa.daos.base import session
from msphub_psa.daos.control import PreviewRowsDAO, SyncSettingsDAO
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.domain import schedule as sched
from msphub_psa.domain.actor import Actor
from msphub_psa.domain.errors import DomainError
from msphub_psa.settings import settings

APPROVAL_MODES = ("default", "always", "never")
MAX_LIMIT_WITHOUT_CAP = 100_000
"""Upper bound of a partner's limit when the operator sets no cap (PSA_CW_REQUESTS_PER_MINUTE=0)."""


def operator_cap() -> int:
    """The operator's requests-per-minute cap (0: none)."""
    return settings().cw_requests_per_minute


def default_time() -> str:
    """The default schedule time (``PSA_SCHEDULE_DEFAULT_TIME``, 06:00)."""
    return settings().schedule_default_time


@dataclass
class EffectiveSettings:
    """The settings that apply to a partner now (row or defaults), with what follows from them."""

    partner_id: int
    timezone: str
    schedule: sched.Schedule
    approval: str
    requests_per_minute: int | None
    first_push_done: bool
    updated_by: str | None = None
    updated_at: dt.datetime | None = None
    create_list_values: bool = True

    @property
    def approval_required(self) -> bool:
        """Whether a push must be approved now (see the module's docstring)."""
        if self.approval == "default":
            return not self.first_push_done
        return self.approval == "always"

    @property
    def effective_limit(self) -> int:
        """Requests per minute actually applied (0: no limit)."""
        cap = operator_cap()
        if self.requests_per_minute is None:
            return cap
        return min(self.requests_per_minute, cap) if cap else self.requests_per_minute

    def as_dict(self, now: dt.datetime | None = None) -> dict:
        """JSON form (flat; the same names the update takes, plus what follows from them)."""
        upcoming = sched.next_slot(self.schedule, now or clock.now())
        local = upcoming.astimezone(self.schedule.zone) if upcoming else None
        return {
            "partner_id": self.partner_id,
            "timezone": self.timezone,
            "schedule_enabled": self.schedule.enabled,
            "schedule_time": sched.format_time(self.schedule.at),
            "schedule_days": sched.day_names(self.schedule.days),
            "next_run_at": upcoming.isoformat() if upcoming else None,
            "next_run_local": local.strftime("%a %Y-%m-%d %H:%M %Z") if local else None,
            "approval": self.approval,
            "approval_required": self.approval_required,
            "first_push_done": self.first_push_done,
            "requests_per_minute": self.requests_per_minute,
            "effective_requests_per_minute": self.effective_limit,
            "max_requests_per_minute": operator_cap() or None,
            "create_list_values": self.create_list_values,
            "updated_by": self.updated_by,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def schedule_of(row, timezone: str) -> sched.Schedule:
    """The schedule of a settings row, or the default one (daily at the default time) without a row."""
    if row is None:
        return sched.Schedule(True, sched.parse_time(default_time()), frozenset(range(7)), timezone)
    return sched.Schedule(
        row.schedule_enabled,
        sched.parse_time(row.schedule_time),
        sched.parse_days(d for d in row.schedule_days.split(",") if d),
        timezone,
    )


def effective_settings(partner_id: int) -> EffectiveSettings:
    """The partner's settings now (its row, or the defaults)."""
    row = SyncSettingsDAO.for_partner(partner_id)
    partner = PartnerDAO.find_by_id(partner_id)
    tz = partner.timezone if partner is not None else "UTC"
    done = PreviewRowsDAO.first_push_done(partner_id)
    if row is None:
        return EffectiveSettings(partner_id, tz, schedule_of(None, tz), "default", None, done)
    return EffectiveSettings(
        partner_id,
        tz,
        schedule_of(row, tz),
        row.approval,
        row.requests_per_minute,
        done,
        row.updated_by,
        row.updated_at,
        row.create_list_values,
    )


def approval_required(partner_id: int) -> bool:
    """True when the partner's pushes (Sync now, schedule) must wait for approval now."""
    return effective_settings(partner_id).approval_required


def partner_requests_per_minute(partner_id: int) -> int:
    """The partner's ConnectWise requests per minute (0: no limit), for the push's shared throttle."""
    row = SyncSettingsDAO.for_partner(partner_id)
    cap = operator_cap()
    if row is None or row.requests_per_minute is None:
        return cap
    return min(row.requests_per_minute, cap) if cap else row.requests_per_minute


class SyncSettingsCommand(SyncReadCommand):
    """Read the partner's sync settings."""

    def run(self) -> dict:
        """The settings as JSON."""
        self.validate()
        result = effective_settings(self.partner_id).as_dict()
        session().rollback()
        return result


SCHEDULE_FIELDS = ("schedule_enabled", "schedule_time", "schedule_days")


class UpdateSyncSettingsCommand(BaseCommand):
    """Change some of the partner's sync settings (the others stay); audited with what changed."""

    def __init__(self, actor: Actor, values: dict, partner_id: int | None = None):
        self.actor, self.values, self.partner_id = actor, dict(values), partner_id

    def validate(self) -> None:
        """Tenant, integration, write permission; each value, then the whole schedule.

        :raises InvalidInputError: with the messages per field; nothing is saved.
        """
        self.partner_id = sync_scope(self.actor, self.partner_id, write=True)
        errors: dict[str, list[str]] = {}
        current = effective_settings(self.partner_id)
        self.time = self._check(errors, "schedule_time", sched.parse_time, current.schedule.at)
        self.days = self._check(errors, "schedule_days", sched.parse_days, current.schedule.days)
        self.enabled = self.values.get("schedule_enabled", current.schedule.enabled)
        if self.values.get("approval", current.approval) not in APPROVAL_MODES:
            errors["approval"] = [f"Must be one of {', '.join(APPROVAL_MODES)}."]
        self._check_limit(errors)
        if not isinstance(self.values.get("create_list_values", True), bool):
            errors["create_list_values"] = ["Must be true or false."]
        if not errors and self.enabled and not self.days:
            errors["schedule_days"] = ["Choose at least one day while the schedule is on."]
        if errors:
            raise InvalidInputError("Please check the sync settings; nothing was saved.", errors)
        self.current = current

    def _check(self, errors: dict, name: str, parse, default):
        """Parse one schedule value (kept as it is when not given)."""
        if name not in self.values:
            return default
        try:
            return parse(self.values[name])
        except (DomainError, TypeError) as err:
            errors[name] = [str(err)]
            return default

    def _check_limit(self, errors: dict) -> None:
        """1 … the operator's cap, or null for the operator's setting."""
        value = self.values.get("requests_per_minute")
        if value is None:
            return
        cap = operator_cap()
        upper = cap or MAX_LIMIT_WITHOUT_CAP
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= upper:
            where = f"the operator's limit of {cap}" if cap else f"{upper}"
            errors["requests_per_minute"] = [
                f"Must be a whole number from 1 to {where} requests a minute (or null for the default)."
            ]

    @transaction
    def run(self) -> dict:
        """Save (a settings row is created on first change), audit the changes, return the new settings."""
        self.validate()
        row = SyncSettingsDAO.for_partner(self.partner_id) or SyncSettingsDAO.create(
            self.partner_id, schedule_time=default_time()
        )
        before = _row_values(row)
        row.schedule_enabled, row.schedule_time = bool(self.enabled), sched.format_time(self.time)
        row.schedule_days = ",".join(sched.day_names(self.days))
        row.approval = self.values.get("approval", row.approval)
        if "requests_per_minute" in self.values:
            row.requests_per_minute = self.values["requests_per_minute"]
        row.create_list_values = self.values.get("create_list_values", row.create_list_values)
        changes = {k: [before[k], v] for k, v in _row_values(row).items() if before[k] != v}
        if any(k in changes for k in SCHEDULE_FIELDS):
            row.schedule_since = clock.now()  # a changed schedule counts from now: no slot already past fires
        row.updated_by, row.updated_at = self.actor.username, clock.now()
        session().flush()
        audit(self.actor, "sync.settings", "partner", self.partner_id, partner_id=self.partner_id, changes=changes)
        return effective_settings(self.partner_id).as_dict()


def _row_values(row) -> dict:
    """The settable values of a settings row."""
    return {
        "schedule_enabled": row.schedule_enabled,
        "schedule_time": row.schedule_time,
        "schedule_days": row.schedule_days,
        "approval": row.approval,
        "requests_per_minute": row.requests_per_minute,
        "create_list_values": row.create_list_values,
    }
