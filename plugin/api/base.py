"""Base of the plugin's REST APIs: permissions as data, CSRF for cookie sessions."""
from __future__ import annotations

from flask import jsonify, request
from flask_appbuilder.api import BaseApi
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from plugin import permissions

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def check_cookie_csrf():
    """Browser (cookie) sessions must send ``X-CSRFToken`` on writes; bearer tokens need not."""
    if request.method in SAFE_METHODS or request.headers.get("Authorization"):
        return None
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError as exc:
        return jsonify(message=f"CSRF check failed: {exc}"), 400
    return None


class PsaApi(BaseApi):
    """A plugin API: ``/api/v1/<resource_name>/``, read/write permissions on one resource."""

    method_permission_name = permissions.METHOD_PERMISSIONS
    allow_browser_login = True

    def create_blueprint(self, appbuilder, *args, **kwargs):
        """Add the cookie-session CSRF check to the API's blueprint."""
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(check_cookie_csrf)
        return blueprint
