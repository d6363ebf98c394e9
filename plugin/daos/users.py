"""The host's FAB users, read through its security manager (whatever its user model)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from msphub_psa.daos.base import session
from msphub_psa.models.tenancy import UserSession


class UserDAO:
    """Users of the host application."""

    @staticmethod
    def find_by_username(username: str) -> Any | None:
        """A user by username, or None."""
        return current_app.appbuilder.sm.find_user(username=username)


class UserSessionDAO:
    """Each user's session generation (0 until the first logout)."""

    @staticmethod
    def generation(user_id: int) -> int:
        """The user's current generation."""
        row = session().get(UserSession, user_id)
        return row.generation if row is not None else 0

    @staticmethod
    def advance(user_id: int) -> int:
        """Move the user's generation on (every session stamped with the old one ends); returns the new one."""
        row = session().get(UserSession, user_id) or UserSession(user_id=user_id, generation=0)
        row.generation = (row.generation or 0) % (2**31 - 1) + 1
        session().add(row)
        session().flush()
        return row.generation
