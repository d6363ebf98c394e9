"""Base of the plugin's REST APIs: permissions as data, JSON bodies, documented errors."""

from __future__ import annotations

import copy

from apispec import APISpec
from flask import current_app, jsonify, request
from flask_appbuilder.api import BaseApi
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from msphub_psa import permissions
from msphub_psa.commands.base import rollback
from msphub_psa.commands.exceptions import InvalidInputError
from msphub_psa.schemas.base import in_db_range

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# What every plugin error looks like (plugin/web.py::handle_command_error, marshmallow errors, FAB's own).
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "message": {
            "oneOf": [{"type": "string"}, {"type": "object"}, {"type": "array"}],
            "description": "What went wrong (text; field messages for some schema errors)",
        },
        "msg": {"type": "string", "description": "JWT errors (flask-jwt-extended)"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages per field",
        },
    },
}
ERROR_TEXT = {
    "400": "Bad input (the message says which; nothing changed)",
    "401": "Not signed in, or the token is missing or expired",
    "403": "Your role, the feature toggle or the integration's state does not allow it",
    "404": "Unknown id, or another tenant's",
    "415": "A body that is not JSON",
    "409": "Conflicts with the current state (a stale version, a company already mapped...)",
    "422": "The bearer token cannot be decoded",
    "503": "The job queue (Redis) does not answer; nothing changed",
}
_ALWAYS = ("400", "401", "403", "404", "422")
_WRITES = ("409", "415", "503")


def error_response(code: str) -> dict:
    """The documented error response for a status code."""
    return {"description": ERROR_TEXT[code], "content": {"application/json": {"schema": copy.deepcopy(ERROR_SCHEMA)}}}


def document_errors(operations: dict) -> None:
    """Give each operation every error it can answer, with the plugin's error schema (replacing FAB refs)."""
    for method, operation in operations.items():
        responses = operation.setdefault("responses", {})
        codes = _ALWAYS + (() if method.upper() in SAFE_METHODS else _WRITES)
        for code in {*codes, *(str(c) for c in responses if str(c) in ERROR_TEXT)}:
            responses.pop(int(code), None)  # docstrings may key statuses as int
            responses[code] = error_response(code)


def flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's (possibly nested) messages as ``{"a.0.b": [...]}``."""
    if isinstance(messages, list):
        return {prefix or "_schema": [str(m) for m in messages]}
    if not isinstance(messages, dict):
        return {prefix or "_schema": [str(messages)]}
    out: dict[str, list[str]] = {}
    for key, value in messages.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def load(schema: Schema, data, message: str = "Please check your input.") -> dict:
    """Load input with a schema (``None`` counts as an empty object).

    :raises InvalidInputError: with the messages per field.
    """
    try:
        return schema.load(data if data is not None else {})
    except SchemaError as err:
        raise InvalidInputError(message, flatten(err.messages)) from err


def check_json_body():
    """A write's body, when there is one, must be a JSON object: malformed JSON is a 400, never a default.

    (Endpoints read ``request.get_json(silent=True) or {}``; without this check a broken body would run
    the action with its defaults, e.g. map every exact match.)
    """
    if request.method in SAFE_METHODS or not request.get_data(cache=True):
        return None
    if not request.is_json:
        return jsonify(message="Send the body as JSON (Content-Type: application/json)."), 415
    try:
        body = current_app.json.loads(request.get_data(cache=True, as_text=True))
    except ValueError as exc:
        return jsonify(message=f"Malformed JSON: {exc}"), 400
    if not isinstance(body, dict):
        return jsonify(message="The request body must be a JSON object."), 400
    return None


def no_store(response):
    """Tenant data is never kept by a browser or a proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


class PsaApi(BaseApi):
    """A plugin API: ``/api/v1/<resource_name>/``, read/write permissions on one resource."""

    method_permission_name = permissions.METHOD_PERMISSIONS
    allow_browser_login = True

    def create_blueprint(self, appbuilder, *args, **kwargs):
        """Add the JSON body check to the API's blueprint (CSRF: ``msphub_psa.web.protect_plugin_writes``)."""
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(check_json_body)
        blueprint.after_request(no_store)
        return blueprint

    def add_api_spec(self, api_spec: APISpec) -> None:
        """FAB's spec of this API's routes, then the plugin's error responses on each operation."""
        super().add_api_spec(api_spec)
        prefix = f"{self.route_base}/"
        for path, operations in api_spec._paths.items():
            if path.startswith(prefix) or path == self.route_base:
                document_errors(operations)
        self._add_summaries(api_spec)

    def _add_summaries(self, api_spec: APISpec) -> None:
        """Each operation's summary: the first line of its method's docstring."""
        for name in dir(self):
            func = getattr(self, name)
            for url, methods in getattr(func, "_urls", ()):
                operations = api_spec._paths.get(self.path_helper(path=url, operations={}), {})
                summary = (func.__doc__ or "").strip().splitlines()[0:1]
                for method in methods:
                    if summary and method.lower() in operations:
                        operations[method.lower()].setdefault("summary", summary[0].strip())


def _json_http_error(error):
    """Routing and abort() errors under ``/api/`` as JSON (``{"message": ...}``); pages keep HTML."""
    if not request.path.startswith("/api/"):
        return error
    return jsonify(message=error.description or error.name), error.code


def install_json_api_errors(app) -> None:
    """Routing and request errors on API paths (an id that does not match the route, a wrong method, a body
    that is not JSON or too large) answer JSON."""
    for code in (400, 404, 405, 413):
        app.register_error_handler(code, _json_http_error)


class DbIdConverter(IntegerConverter):
    """``<psa_id:name>``: digits; a number no INTEGER id can hold names no record: 404 saying so."""

    def to_python(self, value: str) -> int:
        """The id.

        :raises NotFound: when it is out of the INTEGER range.
        """
        number = super().to_python(value)
        if not in_db_range(number):
            raise NotFound(f"No record has the id {value[:30]}.")
        return number


def _data_error(error: DataError):
    """A value the database refuses (a number out of its range, text too long): 400, nothing kept."""
    rollback()
    return jsonify(message="A value is out of range for this field; nothing was changed."), 400


def install_id_converter(app) -> None:
    """Register ``psa_id`` before the plugin's routes are added."""
    app.url_map.converters.setdefault("psa_id", DbIdConverter)


def install_data_error_handler(app) -> None:
    """Safety net: a DataError from the database is a 400, not a 500 (PostgreSQL checks ranges, SQLite does not)."""
    app.register_error_handler(DataError, _data_error)
