"""The command error tree; each error carries the HTTP status it maps to.

CommandError
 +-- InvalidInputError      400  bad values; ``errors`` maps field -> messages
 +-- ForbiddenError         403  role may not do this
 |    +-- FeatureDisabledError  the distributor has not enabled the integration
 |    +-- IntegrationInactiveError  the integration is not active
 +-- NotFoundError          404  unknown id, or another tenant's
 +-- ConflictError          409  the state changed under the request
 +-- UnavailableError       503  a service the command needs (the job queue) is down
 IntegrationStoppedError (an IntegrationInactiveError) stops a job before its next ConnectWise call
"""

from __future__ import annotations


class CommandError(Exception):
    """Base of every error a command raises on purpose."""

    status = 500

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    def to_dict(self) -> dict:
        """JSON body for the REST API."""
        body: dict = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


class InvalidInputError(CommandError):
    """The input breaks a business rule."""

    status = 400


class ForbiddenError(CommandError):
    """The actor's role does not allow this."""

    status = 403


class FeatureDisabledError(ForbiddenError):
    """The ConnectWise integration is not enabled for the partner."""

    def __init__(
        self,
        message: str = "The ConnectWise integration is not enabled for your "
        "organization. Ask your distributor to enable it.",
        errors=None,
    ):
        super().__init__(message, errors)


class IntegrationInactiveError(ForbiddenError):
    """The partner's ConnectWise integration is not active."""

    def __init__(
        self,
        message: str = "The ConnectWise integration is not active. Activate it "
        "under My Account > My Organization > Integrations.",
        errors=None,
    ):
        super().__init__(message, errors)


class NotFoundError(CommandError):
    """No such record for this actor (also for another tenant's ids)."""

    status = 404


class ConflictError(CommandError):
    """The record changed concurrently; the request was not applied."""

    status = 409


class UnavailableError(CommandError):
    """A service the command depends on (Redis, the job queue) does not answer; nothing was changed."""

    status = 503


class IntegrationStoppedError(IntegrationInactiveError):
    """Raised inside a job: the integration was deactivated (or the feature turned off) meanwhile."""

    def __init__(
        self,
        message: str = "The ConnectWise integration is no longer active; the job "
        "stopped before its next ConnectWise call.",
        errors=None,
    ):
        super().__init__(message, errors)
