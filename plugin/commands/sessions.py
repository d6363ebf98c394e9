"""Sessions that end server-side: a session carries a stamp of its user's generation and password; logging out
moves the generation on, changing the password changes the stamp, so every copy of an older cookie ends."""

from __future__ import annotations

import hashlib
from typing import Any

from msphub_psa.commands.base import transaction
from msphub_psa.daos.users import UserSessionDAO


def session_stamp(user: Any) -> str:
    """What a valid session of ``user`` carries now: the generation and a digest of the password hash."""
    digest = hashlib.sha256((user.password or "").encode()).hexdigest()[:16]
    return f"{UserSessionDAO.generation(user.id)}.{digest}"


@transaction
def end_sessions(user_id: int) -> None:
    """End every session of the user (on logout)."""
    UserSessionDAO.advance(user_id)
