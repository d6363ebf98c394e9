"""Structured logs: our ids on every record (a filter) and one JSON formatter; plain text stays available.

The host application calls ``configure_logging(fmt, level)`` once (``app.py`` reads ``PSA_LOG_FORMAT``
and ``PSA_LOG_LEVEL``). Code binds ids with ``log_context(partner_id=..., job_id=...)`` (or
``bind_log_context`` inside a job, which runs alone in its work horse) or passes them as
``extra=``; the filter copies the bound ids onto every record, the formatter writes them as fields.
Secrets are never passed to a log call (the ConnectWise client redacts its Authorization header).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

CONTEXT_FIELDS = ("partner_id", "job_id", "run_id", "row_id", "integration_id", "user", "request_id")
EXTRA_FIELDS = CONTEXT_FIELDS + (
    "cw_method",
    "cw_path",
    "cw_status",
    "duration_ms",
    "attempt",
    "cw_request_id",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "job",
    "queue",
    "http_method",
    "http_path",
    "http_status",
    "alert_to",
    "alert_subject",
    "alert_link",
    "run_status",
    "run_counts",  # the billing sync's alert e-mail
)
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "psa_log_context", default=MappingProxyType({})
)


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Bind ids (``partner_id``, ``job_id``, ``run_id``, ``row_id``...) to the records logged inside."""
    token = _context.set({**_context.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def bind_log_context(**ids: Any) -> contextvars.Token:
    """Bind ids until the end of the current context (a job's work horse, a request); the token
    lets a request's teardown unbind them (a server thread serves many requests)."""
    return _context.set({**_context.get(), **{k: v for k, v in ids.items() if v is not None}})


def unbind_log_context(token: contextvars.Token) -> None:
    """Undo a :func:`bind_log_context`."""
    try:
        _context.reset(token)
    except ValueError:  # bound in another context (a test client's request): just clear it
        _context.set({})


class ContextFilter(logging.Filter):
    """Copy the bound ids onto each record (an explicit ``extra=`` wins) and a text suffix of them."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; just enrich it."""
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        ids = [f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if getattr(record, k, None) is not None]
        record.psa_ids = f" [{' '.join(ids)}]" if ids else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC), level, logger, message, our ids and the known extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record."""
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in EXTRA_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s%(psa_ids)s"


def make_handler(fmt: str = "text", stream=None) -> logging.Handler:
    """A stream handler with the ids filter and the JSON or text formatter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.psa_handler = True  # type: ignore[attr-defined]
    return handler


QUIET_BELOW_DEBUG = {
    "httpx": logging.WARNING,  # a line per request at INFO; our client logs each ConnectWise call at DEBUG
    "httpcore": logging.WARNING,
    "flask_appbuilder": logging.WARNING,  # its start-up steps at INFO
    # FAB 5's own security APIs declare search columns over relationships its filter converter
    # does not support, and say so at WARNING on every start: nothing a host can act on.
    "flask_appbuilder.models.filters": logging.ERROR,
}


def configure_logging(fmt: str = "text", level: str | int = "INFO") -> None:
    """Install (once per process; a second call replaces it) our handler on the root logger.

    Below DEBUG, the libraries' chatter (:data:`QUIET_BELOW_DEBUG`) is left out; at DEBUG everything shows.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "psa_handler", False)]:
        root.removeHandler(old)
    root.addHandler(make_handler(fmt))
    root.setLevel(level)
    debug = root.getEffectiveLevel() <= logging.DEBUG
    for name, quiet in QUIET_BELOW_DEBUG.items():
        logging.getLogger(name).setLevel(logging.NOTSET if debug else quiet)
