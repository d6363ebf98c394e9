"""What every request meets before the plugin's code: a body size limit, JSON nested no deeper than the parser
can go, ``Retry-After`` on every 429, and (opt-in) the client's scheme and address from a trusted proxy."""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from werkzeug.middleware.proxy_fix import ProxyFix

from msphub_psa.settings import Settings

RETRY_AFTER_DEFAULT = 60  # seconds, when no limit says


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
    hops = config.proxy_fix_hops
    if hops and not isinstance(app.wsgi_app, ProxyFix):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
