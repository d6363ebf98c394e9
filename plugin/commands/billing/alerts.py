"""The alert e-mail of a billing sync run that ended failed, partial, stopped or abandoned: built and handed over once;
and the drift e-mail of a scheduled run that did not alert but whose read-back found new findings.

Called by the push when its run has been recorded (``PushBillingCommand._finish``). A compare-and-set
on ``psa_sync_run.alert_sent_at`` makes it once per run, whoever calls it and however often; pages
that poll never send anything. Recipients: ``PSA_ALERT_EMAIL_TO`` (comma-separated) and the
partner's active Partner Admin users. The hook is ``PSA_ALERT_EMAIL_HOOK`` (see ``msphub_psa.alerts``).
"""

from __future__ import annotations

import logging

from msphub_psa.alerts import AlertEmail, load_hook
from msphub_psa.commands.base import transaction
from msphub_psa.commands.billing.assurance_actions import drift_json
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.daos.outbox import SyncRunDAO
from msphub_psa.daos.runs import SyncRunHistoryDAO
from msphub_psa.settings import settings

log = logging.getLogger(__name__)


def _hook(what: str):
    """The configured e-mail hook, or None (unset, or it cannot be loaded: logged)."""
    path = settings().alert_email_hook
    if not path:
        return None
    try:
        return load_hook(path)
    except (ImportError, AttributeError, ValueError) as err:
        log.error("PSA_ALERT_EMAIL_HOOK %r cannot be loaded (%s); %s is not sent", path, err, what)
        return None


def _hand_over(hook, email: AlertEmail, what: str) -> None:
    """Give ``email`` to the host's mailer, which may fail in any way (logged; what it is about stays recorded)."""
    try:
        hook(email)
    except Exception:  # noqa: BLE001
        log.exception("Handing over %s failed in %s", what, settings().alert_email_hook)


def notify_run_alert(run_id: int | None) -> bool:
    """Hand the run's alert e-mail to the configured hook once; True when it was handed over now."""
    what = f"the alert e-mail of run {run_id}"
    hook = _hook(what) if run_id is not None else None
    email = _claim(run_id) if hook is not None else None
    if email is None:
        return False
    _hand_over(hook, email, what)
    return True


def notify_drift(partner_id: int, readback: dict) -> bool:
    """After a scheduled run that sent no alert: an e-mail when its read-back found new findings (each new
    finding is e-mailed once: the next read-back finds it again, not anew). True when one was handed over."""
    what = f"the drift e-mail of read-back {readback.get('run_id')}"
    hook = _hook(what) if readback.get("new") else None
    if hook is None:
        return False
    _hand_over(hook, _drift_email(partner_id, readback), what)
    return True


@transaction
def _drift_email(partner_id: int, readback: dict) -> AlertEmail:
    """The drift e-mail: the open findings by kind with the money at stake, and where to decide on them."""
    partner, drift = PartnerDAO.find_by_id(partner_id), drift_json(partner_id)
    return AlertEmail(
        to=_recipients(partner_id),
        subject=f"ConnectWise differs from MSP Hub's billing for {partner.name}: {readback['new']} new finding(s)",
        body="\n".join(
            [
                f"The scheduled read-back of {partner.name}'s ConnectWise agreements (read-back {readback['run_id']}) "
                f"found {readback['new']} new difference(s) from MSP Hub's billing.",
                *_drift_lines(drift),
            ]
        ),
        partner_id=partner_id,
        partner_name=partner.name,
        run_id=readback["run_id"],
        status="drift",
        counts=dict(readback.get("counts") or {}),
        link=f"{settings().public_url.rstrip('/')}/psa/reconciliation/#assurance",
        drift=drift,
    )


@transaction
def _claim(run_id: int) -> AlertEmail | None:
    """Mark the e-mail as sent (once) and build it; None when the run does not alert or was handled."""
    if not SyncRunHistoryDAO.claim_alert(run_id):
        return None
    run = SyncRunDAO.get(run_id)
    partner = PartnerDAO.find_by_id(run.partner_id)
    return build_email(run, partner.name, _recipients(run.partner_id))


def _recipients(partner_id: int) -> tuple[str, ...]:
    """``PSA_ALERT_EMAIL_TO`` and the partner's Partner Admins, without duplicates."""
    configured = [a.strip() for a in settings().alert_email_to.split(",") if a.strip()]
    return tuple(dict.fromkeys(configured + SyncRunHistoryDAO.partner_admin_emails(partner_id)))


def build_email(run, partner_name: str, to: tuple[str, ...]) -> AlertEmail:
    """Subject and plain-text body: status, times, counts by outcome, the error, a link to the run."""
    counts = dict(run.counts or {})
    link = f"{settings().public_url.rstrip('/')}/psa/sync/runs/{run.id}"
    outcome = ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "no rows"
    drift = drift_json(run.partner_id)
    lines = [
        f"The ConnectWise billing sync of {partner_name} ended {run.status} (run {run.id}).",
        f"Started {run.started_at:%Y-%m-%d %H:%M} UTC, ended {run.finished_at:%Y-%m-%d %H:%M} UTC."
        if run.finished_at
        else f"Started {run.started_at}.",
        f"Rows: {outcome}.",
        *([f"Reason: {run.error}"] if run.error else []),
        f"See the failed rows and retry them: {link}",
        "Acknowledge the alert there once it is handled.",
        *_drift_lines(drift),
    ]
    return AlertEmail(
        to=to,
        subject=f"ConnectWise billing sync {run.status} for {partner_name} (run {run.id})",
        body="\n".join(lines),
        partner_id=run.partner_id,
        partner_name=partner_name,
        run_id=run.id,
        status=run.status,
        counts=counts,
        link=link,
        drift=drift,
    )


def _drift_lines(drift: dict) -> list[str]:
    """The revenue assurance paragraph: open findings by kind with the money at stake (none: nothing)."""
    if not drift["records"]:
        return []
    by_code = [(code.replace("_", " "), c) for code, c in drift["by_code"].items() if c["records"]]
    kinds = ", ".join(f"{code} {c['records']} ({c['amount']})" for code, c in by_code)
    link = f"{settings().public_url.rstrip('/')}/psa/reconciliation/#assurance"
    return [
        "",
        f"Revenue assurance: {drift['records']} record(s) in ConnectWise differ from MSP Hub's billing, "
        f"{drift['amount']} at stake: {kinds}.",
        f"Decide on each in the Reconciliation Center's Revenue assurance tab: {link}",
    ]
