"""The host's FAB users, read through its security manager (whatever its user model)."""

from __future__ import annotations

from typing import Any

from flask import current_app


class UserDAO:
    """Users of the host application."""

    @staticmethod
    def find_by_username(username: str) -> Any | None:
        """A user by username, or None."""
        return current_app.appbuilder.sm.find_user(username=username)
