"""The partner's ConnectWise integration card: activate, edit, deactivate, status, and the
validation job's side (check the credentials, record the outcome, stop when deactivated).

States: ``inactive`` (never saved) -> ``validating`` -> ``active`` | ``invalid``; ``active`` ->
``deactivated`` -> (Activate) ``validating`` ... While a validation runs, ``pending`` holds the
attempt (kind, who, when; for an edit also the new credentials, private key encrypted), so a
failed edit never touches the working credentials of an active integration.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from msphub_psa import clock, permissions
from msphub_psa.commands.access import actor_for_user, find_user, partner_of, require_feature, require_permission
from msphub_psa.commands.base import BaseCommand, audit, audit_refusal, transaction
from msphub_psa.commands.directory import RequestDirectoryRefreshCommand
from msphub_psa.commands.exceptions import (
    CommandError,
    ConflictError,
    IntegrationStoppedError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
)
from msphub_psa.commands.psa_client import check_api_url, client_for, pending_credentials
from msphub_psa.connectwise import (
    ConnectWiseClient,
    CWAuthError,
    CWCompanyNotFound,
    CWError,
    CWForbidden,
    CWNotFound,
    CWTimeout,
    CWTransportError,
    CWURLRefused,
    RetryPolicy,
    Timeouts,
)
from msphub_psa.crypto import SecretError, decrypt_secret, encrypt_secret
from msphub_psa.daos.feature import PartnerFeatureDAO
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.domain.actor import Actor
from msphub_psa.jobqueue import (
    LockBusy,
    QueueUnavailable,
    enqueue_validation,
    job_alive,
    partner_lock,
    validation_job_id,
)
from msphub_psa.logs import bind_log_context, log_context
from msphub_psa.models.integration import Integration
from msphub_psa.settings import settings

GENERIC_FAILURE = "Unable to validate ConnectWise integration. Please verify the provided details and try again."
EDIT_KEPT = "Your changes were not applied: the previous ConnectWise credentials remain active."
OBJECT = "integration"
LIMITS = {"client_id": 64, "company_name": 100, "public_key": 100, "api_url": 300, "private_key": 200}
VALIDATION_RETRY = RetryPolicy(max_attempts=2, max_elapsed=30.0, backoff_base=0.5, backoff_max=2.0)

# Which check failed, for the partner: one line, never a value they typed. Subclasses first.
HINTS: list[tuple[type[BaseException], str]] = [
    (CWURLRefused, "The API URL is not allowed: use the https address of your ConnectWise cloud API host."),
    (CWCompanyNotFound, "ConnectWise did not find this company: check the Company Name and the API URL."),
    (CWAuthError, "ConnectWise refused the keys or the Client ID: check Public Key, Private Key and Client ID."),
    (CWForbidden, "ConnectWise accepted the keys, but the API member's security role may not read system info."),
    (CWTimeout, "ConnectWise did not answer in time: try again in a few minutes."),
    (CWTransportError, "The API URL could not be reached: check it under System > My Company > Server Info."),
    (CWNotFound, "The API URL does not lead to a ConnectWise API: check it under System > My Company > Server Info."),
    (SecretError, "The stored private key can no longer be read: enter the Private Key again."),
    (CWError, "ConnectWise answered with an error: try again in a few minutes."),
]
QUEUE_DOWN_HINT = "The validation could not be started (the job queue does not answer): save again later."
STALLED_HINT = "The validation did not finish (no worker picked it up, or it was interrupted): save again."

log = logging.getLogger(__name__)


def validation_timeouts() -> Timeouts:
    """Timeouts of the validation's calls (``PSA_CW_VALIDATION_TIMEOUT`` seconds to read, default 15)."""
    read = settings().cw_validation_timeout
    return Timeouts(connect=min(5.0, read), read=read, write=read, pool=min(5.0, read))


def hint_for(error: BaseException) -> str:
    """The one-line hint for a validation failure."""
    return next(hint for cls, hint in HINTS if isinstance(error, cls))


def cause_of(error: BaseException) -> dict[str, Any]:
    """The precise cause for the audit: error type, ConnectWise's code, status, answer and request id."""
    detail: dict[str, Any] = {"error": type(error).__name__, "cause": str(error)}
    if isinstance(error, CWError):
        detail.update(
            cw_code=error.code,
            cw_status=error.status,
            cw_errors=error.errors or None,
            cw_request_id=error.request_id,
            cw_call=f"{error.method or ''} {error.path or ''}".strip() or None,
        )
    return {k: v for k, v in detail.items() if v is not None}


@dataclass(frozen=True)
class CredentialsInput:
    """What the card's form (or the API, or the CLI) submits; a blank private key keeps the stored one."""

    company_name: str
    public_key: str
    api_url: str
    client_id: str = ""
    private_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class SaveResult:
    """The validation attempt a save started (``created``) or joined (same values already running)."""

    integration_id: int
    job_id: str
    created: bool


@contextmanager
def _save_lock(partner_id: int) -> Iterator[None]:
    """Saves of one partner, one at a time (a Redis lock).

    :raises UnavailableError: the queue (Redis) does not answer.
    :raises ConflictError: another save held the lock too long.
    """
    lock = partner_lock("integration-save", partner_id)
    try:
        lock.__enter__()
    except QueueUnavailable as exc:
        raise UnavailableError("The job queue does not answer; nothing was saved. Try again later.") from exc
    except LockBusy as exc:
        raise ConflictError("Another change of this integration is in progress; try again.") from exc
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def validation_running(integration: Integration | None) -> bool:
    """True while a validation attempt of this integration is queued or running."""
    return bool(integration and integration.pending and job_alive(integration.validation_job_id))


class _SaveIntegration(BaseCommand):
    """Shared by Activate and Edit: check, hold the values, enqueue one validation job."""

    kind = ""

    def __init__(self, actor: Actor, values: CredentialsInput, partner_id: int | None = None):
        self.actor = actor
        self.values = values
        self.requested_partner = partner_id
        self.partner_id: int | None = None
        self.integration: Integration | None = None
        self.clean: dict[str, str] = {}

    def check_state(self) -> None:
        """:raises ConflictError: when this action does not apply to the current status."""
        raise NotImplementedError

    def validate(self) -> None:
        """Tenant, permission, feature, status, then the values.

        :raises CommandError: 404 / 403 / 409 / 400 as the case may be.
        """
        self.partner_id = partner_of(self.actor, self.requested_partner)
        require_permission(self.actor, permissions.WRITE, permissions.INTEGRATION)
        require_feature(self.partner_id)
        self.integration = IntegrationDAO.for_partner_fresh(self.partner_id)
        self.check_state()
        self.clean = self._checked_values()

    def run(self) -> SaveResult:
        """Under a per-partner lock: store, then enqueue (or join) the validation job."""
        try:
            self.partner_id = partner_of(self.actor, self.requested_partner)
            with _save_lock(self.partner_id):
                result = self._store()
                if result.created:
                    self._enqueue(result)
        except CommandError as err:
            self._refused(err)
            raise
        return result

    def _enqueue(self, result: SaveResult) -> None:
        """Enqueue the job; when the queue is down, end the attempt so the card does not spin.

        :raises UnavailableError: the queue does not answer.
        """
        try:
            enqueue_validation(result.integration_id, result.job_id)
        except QueueUnavailable as exc:
            _abandon(result.job_id, result.integration_id, QUEUE_DOWN_HINT)
            raise UnavailableError("The job queue does not answer; the validation could not be started.") from exc

    def _refused(self, err: CommandError) -> None:
        """Audit a refusal on the actor's own tenant (never on another tenant's records)."""
        partner = self.partner_id if not isinstance(err, NotFoundError) else self.actor.partner_id
        audit_refusal(
            self.actor,
            f"integration.{self.kind}",
            OBJECT,
            self.integration.id if self.integration else None,
            err.message,
            partner_id=partner,
        )

    def _checked_values(self) -> dict[str, str]:
        """Trimmed values, the API URL normalised under the policy.

        :raises InvalidInputError: a missing, too long or refused value (field -> messages).
        """
        v, integ = self.values, self.integration
        clean = {name: (getattr(v, name) or "").strip() for name in LIMITS}
        errors: dict[str, list[str]] = {}
        clean["client_id"] = self._client_id(clean["client_id"])
        for name, label in (
            ("client_id", "Client ID"),
            ("company_name", "Company Name"),
            ("public_key", "Public Key"),
            ("api_url", "API URL"),
        ):
            if not clean[name]:
                errors[name] = [f"Enter the {label}."]
        if not clean["private_key"] and integ is None:
            errors["private_key"] = ["Enter the Private Key."]
        errors.update({n: [f"At most {n_max} characters."] for n, n_max in LIMITS.items() if len(clean[n]) > n_max})
        if clean["api_url"] and "api_url" not in errors:
            try:
                clean["api_url"] = check_api_url(clean["api_url"]).base_url
            except CWURLRefused as exc:
                errors["api_url"] = [f"This API URL is not allowed: {exc.message}"]
        if errors:
            raise InvalidInputError("Please correct the highlighted fields; nothing was saved.", errors)
        return clean

    def _client_id(self, submitted: str) -> str:
        """The Client ID to use: the stored one once locked (a different one is refused).

        :raises InvalidInputError: a change after the first successful activation.
        """
        integ = self.integration
        if integ is None or not integ.client_id_locked:
            return submitted
        if submitted and submitted != integ.client_id:
            raise InvalidInputError(
                "The Client ID cannot be changed after the first activation; nothing was saved.",
                {"client_id": ["The Client ID cannot be changed after the first activation."]},
            )
        return integ.client_id

    def _working_key(self) -> bytes | None:
        """The encrypted private key now in force (or last stored), if any."""
        return self.integration.private_key_encrypted if self.integration else None

    def _same_as_running(self) -> bool:
        """True when the submitted values equal those of the attempt under validation."""
        integ = self.integration
        held = pending_credentials(integ)
        current = held or {n: getattr(integ, n) for n in ("client_id", "company_name", "public_key", "api_url")}
        token = held["private_key"].encode("ascii") if held else integ.private_key_encrypted
        if any(current[n] != self.clean[n] for n in ("client_id", "company_name", "public_key", "api_url")):
            return False
        submitted = self.clean["private_key"] or decrypt_secret(self._working_key())
        return decrypt_secret(token) == submitted

    @transaction
    def _store(self) -> SaveResult:
        """Validate, then hold the values and name the attempt's job (or join the running one)."""
        self.validate()
        if validation_running(self.integration):
            if self._same_as_running():
                return SaveResult(self.integration.id, self.integration.validation_job_id, created=False)
            raise ConflictError("A validation of other values is already running; wait until it ends, then save again.")
        integ = self._hold(
            {
                "kind": self.kind,
                "by_id": self.actor.user_id,
                "by": self.actor.username,
                "by_name": self.actor.label,
                "at": clock.now().isoformat(),
            }
        )
        job_id = validation_job_id(integ.id)
        IntegrationDAO.update(
            integ,
            validation_job_id=job_id,
            validation_result=None,
            validation_hint=None,
            last_validation_error=None,
            validated_at=None,
        )
        audit(
            self.actor,
            f"integration.{self.kind}",
            OBJECT,
            integ.id,
            partner_id=self.partner_id,
            job_id=job_id,
            client_id=self.clean["client_id"],
            company_name=self.clean["company_name"],
            api_url=self.clean["api_url"],
            private_key="replaced" if self.clean["private_key"] else "kept",
        )
        return SaveResult(integ.id, job_id, created=True)

    def _hold(self, attempt: dict) -> Integration:
        """Put the values where the validation job will read them."""
        raise NotImplementedError

    def _new_key(self) -> bytes:
        """The encrypted private key of this attempt: the submitted one, or the stored one when blank."""
        return encrypt_secret(self.clean["private_key"]) if self.clean["private_key"] else self._working_key()


class ActivateIntegrationCommand(_SaveIntegration):
    """Activate (first time, after a failure, or after deactivation): store and validate."""

    kind = "activate"

    def check_state(self) -> None:
        """:raises ConflictError: the integration is already active (use Edit)."""
        if self.integration is not None and self.integration.status == "active":
            raise ConflictError("The ConnectWise integration is already active; use Edit to change it.")

    def _hold(self, attempt: dict) -> Integration:
        """Nothing is in force: the values become the stored ones, status ``validating``."""
        values = {n: self.clean[n] for n in ("client_id", "company_name", "public_key", "api_url")}
        values.update(private_key_encrypted=self._new_key(), status="validating", pending=attempt)
        if self.integration is None:
            return IntegrationDAO.create(partner_id=self.partner_id, **values)
        return IntegrationDAO.update(self.integration, **values)


class EditIntegrationCommand(_SaveIntegration):
    """Edit an active integration: the new values are held as pending until validated."""

    kind = "edit"

    def check_state(self) -> None:
        """:raises ConflictError: the integration is not active (use Activate).
        :raises InvalidInputError: the Company Name changes (deactivate and activate anew).
        """
        integ = self.integration
        if integ is None or integ.status != "active":
            raise ConflictError("The ConnectWise integration is not active; use Activate.")
        if (self.values.company_name or "").strip() != integ.company_name:
            message = (
                "The Company Name of an active integration cannot be changed: every ConnectWise record "
                "linked so far belongs to that company. Deactivate the integration and activate it anew."
            )
            raise InvalidInputError(message, {"company_name": [message]})

    def _hold(self, attempt: dict) -> Integration:
        """Keep the working credentials; hold the new ones (private key encrypted) in ``pending``."""
        held = {n: self.clean[n] for n in ("client_id", "company_name", "public_key", "api_url")}
        held["private_key"] = self._new_key().decode("ascii")
        return IntegrationDAO.update(self.integration, pending={**attempt, "credentials": held})


@transaction
def _abandon(job_id: str, integration_id: int, hint: str) -> None:
    """End an attempt whose job could not run: nothing becomes active, the card stops waiting."""
    integ = IntegrationDAO.find_fresh(integration_id)
    if integ is None or integ.validation_job_id != job_id or not integ.pending:
        return
    attempt = integ.pending
    IntegrationDAO.update(
        integ,
        pending=None,
        validation_result="failed",
        validation_hint=hint,
        validated_at=clock.now(),
        status="invalid" if integ.status == "validating" else integ.status,
    )
    audit(
        _attempt_actor(attempt),
        "integration.validation",
        OBJECT,
        integ.id,
        partner_id=integ.partner_id,
        outcome="failed",
        job_id=job_id,
        kind=attempt.get("kind"),
        hint=hint,
    )


def _attempt_actor(attempt: dict) -> Actor:
    """The user who asked for the validation, for the audit of its outcome."""
    return Actor(user_id=attempt.get("by_id"), username=attempt.get("by") or "system")


def _first_directory_refresh(attempt: _Attempt) -> None:
    """A new activation reads the partner's ConnectWise companies and agreements at once, as the user who
    activated (the Reconciliation Center fills without a Refresh); activation stands whatever happens here."""
    user = find_user(attempt.details.get("by") or "")
    if user is None:
        return
    try:
        RequestDirectoryRefreshCommand(actor_for_user(user), attempt.partner_id, full=True).run()
    except CommandError as err:
        log.warning("directory refresh after activation not started: %s", err.message)


class DeactivateIntegrationCommand(BaseCommand):
    """Deactivate: PSA pages and jobs stop; mappings and history are kept for a later activation."""

    def __init__(self, actor: Actor, partner_id: int | None = None):
        self.actor = actor
        self.requested_partner = partner_id
        self.partner_id: int | None = None
        self.integration: Integration | None = None

    def validate(self) -> None:
        """:raises CommandError: not visible (404), not allowed (403), or not active (409)."""
        self.partner_id = partner_of(self.actor, self.requested_partner)
        require_permission(self.actor, permissions.WRITE, permissions.INTEGRATION)
        require_feature(self.partner_id)
        self.integration = IntegrationDAO.for_partner_fresh(self.partner_id)
        if self.integration is None or self.integration.status not in ("active", "validating"):
            raise ConflictError("The ConnectWise integration is not active; there is nothing to deactivate.")

    def run(self) -> Integration:
        """Deactivate (audited); a refusal is audited too."""
        try:
            return self._deactivate()
        except CommandError as err:
            partner = self.partner_id if not isinstance(err, NotFoundError) else self.actor.partner_id
            audit_refusal(
                self.actor,
                "integration.deactivate",
                OBJECT,
                self.integration.id if self.integration else None,
                err.message,
                partner_id=partner,
            )
            raise

    @transaction
    def _deactivate(self) -> Integration:
        """Status deactivated; any attempt under validation is dropped (its job stops at its next call)."""
        self.validate()
        integ = self.integration
        before, dropped = integ.status, integ.validation_job_id if integ.pending else None
        IntegrationDAO.update(
            integ,
            status="deactivated",
            deactivated_at=clock.now(),
            pending=None,
            validation_job_id=None,
            validation_result=None,
            validation_hint=None,
        )
        audit(
            self.actor,
            "integration.deactivate",
            OBJECT,
            integ.id,
            partner_id=self.partner_id,
            before=before,
            dropped_validation=dropped,
        )
        return integ


class IntegrationGuard:
    """Re-reads the integration before a ConnectWise call; raises when the job must stop.

    Without ``job_id``: the feature must be on and the integration active (every job that writes
    to ConnectWise). With ``job_id``: that validation attempt must still be the current one.
    """

    def __init__(self, partner_id: int, job_id: str | None = None):
        self.partner_id = partner_id
        self.job_id = job_id

    def __call__(self) -> None:
        """:raises IntegrationStoppedError: deactivated, feature off, or the attempt superseded."""
        self.check()

    @transaction
    def check(self) -> None:
        """One short read transaction (committed, so no lock is held across the HTTP call)."""
        if not PartnerFeatureDAO.is_enabled(self.partner_id):
            raise IntegrationStoppedError(
                "The ConnectWise integration was disabled for this partner; "
                "the job stopped before its next ConnectWise call."
            )
        integ = IntegrationDAO.for_partner_fresh(self.partner_id)
        if self.job_id is None:
            allowed = integ is not None and integ.status == "active"
        else:
            allowed = (
                integ is not None
                and integ.validation_job_id == self.job_id
                and bool(integ.pending)
                and integ.status in ("validating", "active")
            )
        if not allowed:
            raise IntegrationStoppedError()


@dataclass
class _Attempt:
    """What the validation job needs, read before any HTTP call."""

    integration_id: int
    partner_id: int
    details: dict
    client: ConnectWiseClient | None = None
    error: BaseException | None = None


class ValidateIntegrationCommand:
    """The job's side: check the attempt's credentials, then record success or the failure's cause."""

    def __init__(self, integration_id: int, job_id: str | None):
        self.integration_id = integration_id
        self.job_id = job_id

    def run(self) -> str:
        """``active``, ``failed``, ``stopped`` or ``stale`` (nothing to do); logs carry the ids."""
        with log_context(integration_id=self.integration_id, job_id=self.job_id):
            return self._check()

    def _check(self) -> str:
        """Load the attempt, call ConnectWise, record the outcome."""
        attempt = self._load()
        if attempt is None:
            return "stale"
        if attempt.error is not None:
            return self._record(attempt, attempt.error)
        try:
            with attempt.client as client:
                client.check_credentials()
        except IntegrationStoppedError as err:
            return self._record(attempt, err)
        except CWError as err:
            return self._record(attempt, err)
        outcome = self._record(attempt, None)
        if outcome == "active" and attempt.details.get("kind") == "activate":
            _first_directory_refresh(attempt)
        return outcome

    @transaction
    def _load(self) -> _Attempt | None:
        """The current attempt and a client on its credentials (guarded before every request)."""
        integ = IntegrationDAO.find_fresh(self.integration_id)
        if integ is None or not integ.pending or integ.validation_job_id != self.job_id:
            return None
        attempt = _Attempt(integ.id, integ.partner_id, dict(integ.pending))
        bind_log_context(partner_id=integ.partner_id, integration_id=integ.id)
        guard = IntegrationGuard(integ.partner_id, self.job_id)
        try:
            attempt.client = client_for(
                integ,
                pending=attempt.details.get("kind") == "edit",
                throttle=guard,
                timeouts=validation_timeouts(),
                retry=VALIDATION_RETRY,
            )
        except (CWURLRefused, SecretError) as err:
            attempt.error = err
        return attempt

    @transaction
    def _record(self, attempt: _Attempt, error: BaseException | None) -> str:
        """Apply the outcome if the attempt is still current; audit it either way."""
        integ = IntegrationDAO.find_fresh(self.integration_id)
        cause = {} if error is None else cause_of(error)

        def record(**fields) -> None:
            audit(
                _attempt_actor(attempt.details),
                "integration.validation",
                OBJECT,
                self.integration_id,
                partner_id=attempt.partner_id,
                job_id=self.job_id,
                kind=attempt.details.get("kind"),
                **fields,
            )

        if integ is None or integ.validation_job_id != self.job_id or not integ.pending:
            record(
                outcome="refused",
                reason="The attempt was superseded or the integration deactivated; its result was discarded.",
                **cause,
            )
            return "stopped" if isinstance(error, IntegrationStoppedError) else "stale"
        if error is None:
            self._succeed(integ, attempt.details)
            record()
            return "active"
        self._fail(integ, error)
        record(outcome="failed", hint=integ.validation_hint, **cause)
        return "stopped" if isinstance(error, IntegrationStoppedError) else "failed"

    @staticmethod
    def _succeed(integ: Integration, details: dict) -> None:
        """Activation: status active, by/at, Client ID locked. Edit: the held credentials replace the working ones."""
        now = clock.now()
        values: dict[str, Any] = {
            "pending": None,
            "validation_result": "ok",
            "validated_at": now,
            "validation_hint": None,
            "last_validation_error": None,
        }
        held = details.get("credentials")
        if held:
            values.update(
                {n: held[n] for n in ("client_id", "company_name", "public_key", "api_url")},
                private_key_encrypted=held["private_key"].encode("ascii"),
            )
        if details.get("kind") == "activate":
            values.update(
                status="active",
                activated_by_id=details.get("by_id"),
                activated_at=now,
                activated_by_name=details.get("by_name") or details.get("by"),
                client_id_locked=True,
                deactivated_at=None,
            )
        IntegrationDAO.update(integ, **values)

    @staticmethod
    def _fail(integ: Integration, error: BaseException) -> None:
        """Nothing becomes active; an active integration keeps its working credentials."""
        hint = f"Validation stopped: {error.message}" if isinstance(error, IntegrationStoppedError) else hint_for(error)
        IntegrationDAO.update(
            integ,
            pending=None,
            validation_result="failed",
            validated_at=clock.now(),
            validation_hint=hint[:200],
            last_validation_error=str(error)[:4000],
            status="invalid" if integ.status == "validating" else integ.status,
        )
