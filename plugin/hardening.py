"""What every request meets before the plugin's code: a body size limit, JSON nested no deeper than the parser
can go, ``Retry-After`` on every 429, (opt-in) the client's scheme and address from a trusted proxy, and
sessions that end server-side (logout, a password change)."""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, g, jsonify, redirect, request, session
from flask_login import current_user, user_logged_in, user_logged_out
from werkzeug.middleware.proxy_fix import ProxyFix

from msphub_psa.commands.sessions import end_sessions, session_stamp
from msphub_psa.settings import Settings

RETRY_AFTER_DEFAULT = 60  # seconds, when no limit says
STAMP = "_psa_session"  # the session's stamp (msphub_psa.commands.sessions.session_stamp)


class BoundedJSONLoads:
    """Mixin for the app's JSON provider: JSON nested deeper than the parser can go is malformed JSON (a 400
    wherever ``request.get_json`` reads it, FAB's login too), never a RecursionError."""

    def loads(self, s, **kwargs):
        """Parse ``s``.

        :raises ValueError: when it is malformed or nested too deeply.
        """
        try:
            return super().loads(s, **kwargs)  # type: ignore[misc]
        except RecursionError:
            raise ValueError("The JSON is nested too deeply.") from None


def bound_json_nesting(app: Flask) -> None:
    """Give the host's JSON provider (whatever its class) the nesting bound."""
    if not isinstance(app.json, BoundedJSONLoads):
        app.json.__class__ = type("Bounded" + type(app.json).__name__, (BoundedJSONLoads, type(app.json)), {})


def seconds_to_retry() -> int:
    """Seconds until the request's rate limits (FAB's Flask-Limiter) let it through again."""
    limiter = getattr(current_app.appbuilder.sm, "limiter", None)
    resets = [limit.reset_at for limit in (getattr(limiter, "current_limits", None) or ())]
    return max(1, math.ceil(max(resets) - time.time())) if resets else RETRY_AFTER_DEFAULT


def add_retry_after(response):
    """Every 429 says when to try again."""
    if response.status_code == 429 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(seconds_to_retry())
    return response


def install_request_limits(app: Flask, config: Settings) -> None:
    """The body size limit (the host's ``MAX_CONTENT_LENGTH`` wins), the JSON bound, ``Retry-After``, and
    ProxyFix when the operator says how many proxies to trust."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = config.max_content_length
    bound_json_nesting(app)
    app.after_request(add_retry_after)
    install_session_end(app)
    hops = config.proxy_fix_hops
    if hops and not isinstance(app.wsgi_app, ProxyFix):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]


def stamp_session(_app, user, **_) -> None:
    """At login: the session carries its user's current stamp."""
    session[STAMP] = session_stamp(user)


def end_user_sessions(_app, user, **_) -> None:
    """At logout: every session of the user ends, copies of the cookie included."""
    if getattr(user, "is_authenticated", False):
        end_sessions(user.id)


def end_stale_session():
    """A session whose stamp is not its user's current one (logged out, password changed) is cleared: the API
    answers 401, pages send the browser to the login page."""
    if "_user_id" not in session or (request.endpoint or "").endswith("static"):
        return None
    if not current_user.is_authenticated or session.get(STAMP) == session_stamp(current_user):
        return None
    session.clear()
    g.pop("_login_user", None)
    if request.path.startswith("/api/"):
        return jsonify(message="Your session has ended; please sign in again."), 401
    return redirect(current_app.appbuilder.get_url_for_login)


def install_session_end(app: Flask) -> None:
    """Stamp sessions at login, end them at logout, refuse stale ones."""
    sender = app._get_current_object() if hasattr(app, "_get_current_object") else app  # signals name the app itself
    user_logged_in.connect(stamp_session, sender)
    user_logged_out.connect(end_user_sessions, sender)
    app.before_request(end_stale_session)
