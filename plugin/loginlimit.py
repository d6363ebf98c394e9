"""Login rate limit: FAB limits its login form; the same limit is put on the JWT login API here."""

from __future__ import annotations

from flask_appbuilder.security.api import SecurityApi


def limit_api_login(appbuilder) -> bool:
    """Apply ``AUTH_RATE_LIMIT`` to POSTs of FAB's security API (``/api/v1/security/login``, refresh).

    FAB 5 limits only the login form's blueprint; the token login would otherwise allow unlimited
    password guessing. Returns True when a limit was applied.
    """
    sm = appbuilder.sm
    if not sm.is_auth_limited:
        return False
    applied = False
    for view in appbuilder.baseviews:
        if isinstance(view, SecurityApi) and view.blueprint is not None:
            sm.limiter.limit(sm.auth_rate_limit, methods=["POST"])(view.blueprint)
            applied = True
    return applied
