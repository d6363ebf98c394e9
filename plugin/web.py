"""Web plumbing shared by every page: menus that hide, errors, CSRF and headers on the plugin's own routes,
the access log, the RQ dashboard. Nothing here assumes the host protects the plugin's routes."""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import time
import uuid
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import format_currency, format_decimal
from flask import Flask, current_app, g, has_request_context, jsonify, render_template, request
from flask_appbuilder.menu import Menu, MenuItem
from flask_appbuilder.widgets import RenderTemplateWidget
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from msphub_psa.commands import access
from msphub_psa.commands.exceptions import CommandError
from msphub_psa.commands.health import SchemaStatusCommand
from msphub_psa.logs import bind_log_context, unbind_log_context
from msphub_psa.settings import EXTENSION, settings
from msphub_psa.tenancy import current_actor, request_cache

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

# The Content Security Policy: no inline script runs unless it carries the response's nonce (FAB's templates put
# ``baselib.get_nonce()`` on theirs, ours too), no eval, no plugin objects. Styles may be inline (Bootstrap and
# FAB's templates use style attributes). The RQ dashboard's own routes add only what its script needs: eval
# (its row templates are compiled with ``new Function``).
CSP_DIRECTIVES = (
    ("default-src", "'self'"),
    ("img-src", "'self' data:"),
    ("style-src", "'self' 'unsafe-inline'"),
    ("script-src", "'self' {nonce}"),
    ("object-src", "'none'"),
    ("frame-ancestors", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
)
RQ_DASHBOARD_SCRIPT_SRC = "'self' {nonce} 'unsafe-eval'"


def csp_nonce() -> str:
    """The current response's script nonce (one per request, made on first use); FAB's ``baselib.get_nonce()``
    calls this as the template global ``csp_nonce``, the way Flask-Talisman provides it."""
    if not has_request_context():
        return ""
    nonce = request.environ.get("psa.csp_nonce")
    if nonce is None:
        nonce = request.environ["psa.csp_nonce"] = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce: str | None, rq_dashboard: bool = False) -> str:
    """The policy for a response whose inline scripts carry ``nonce`` (None: no inline script at all)."""
    source = f"'nonce-{nonce}'" if nonce else ""
    parts = []
    for name, value in CSP_DIRECTIVES:
        if name == "script-src" and rq_dashboard:
            value = RQ_DASHBOARD_SCRIPT_SRC
        parts.append(f"{name} {value.format(nonce=source)}".replace("  ", " ").strip())
    return "; ".join(parts)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def psa_menu_visible() -> bool:
    """True when the current user's partner has the feature on and an active integration (False with no
    request or no user: FAB asks at start-up)."""
    if not has_request_context():
        return False
    cache = request_cache()
    if "psa_menu_visible" not in cache:
        actor = current_actor()
        visible = False
        if actor is not None and actor.partner_id is not None:
            try:
                access.require_active_integration(actor.partner_id)
                visible = True
            except CommandError:
                visible = False
        cache["psa_menu_visible"] = visible
    return cache["psa_menu_visible"]


def partner_user_visible() -> bool:
    """True for a signed-in partner user (My Organization belongs to a partner)."""
    if not has_request_context():
        return False
    actor = current_actor()
    return actor is not None and actor.partner_id is not None


class ConditionalMenu:
    """Mixin: ``get_list`` drops items (and children) whose ``cond`` is false, in a request. Outside a request
    (FAB registering menu permissions at start-up) every item counts."""

    def get_list(self):
        """Only the items that should render now, children filtered too; a category whose children are all
        hidden goes too (it would render as a link to nowhere)."""
        if not has_request_context():
            return super().get_list()
        shown = (self._visible(item) for item in super().get_list() if item.should_render())
        return [item for item in shown if item is not None]

    def _visible(self, item: MenuItem) -> MenuItem | None:
        """A shallow copy of ``item`` with hidden children removed (None when it had children and none is left)."""
        if not item.childs:
            return item
        copy = MenuItem(
            item.name, href=item.href, icon=item.icon, label=item.label, baseview=item.baseview, cond=item.cond
        )
        copy.childs = [child for child in item.childs if child.should_render()]
        return copy if copy.childs else None


def make_menu_conditional(menu: Menu) -> None:
    """Give the host's menu (whatever its class) conditional items in pages and API."""
    if not isinstance(menu, ConditionalMenu):
        menu.__class__ = type("Conditional" + type(menu).__name__, (ConditionalMenu, type(menu)), {})


def _wants_json() -> bool:
    """True for API calls and XHRs that ask for JSON."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or best == "application/json"


def handle_command_error(error: CommandError):
    """Map a CommandError to its status: JSON for APIs, a page for browsers."""
    if _wants_json():
        return jsonify(error.to_dict()), error.status
    titles = {400: "Please check your input", 403: "Not available", 404: "Not found", 409: "Conflict"}
    return render_template(
        "psa/error.html",
        status=error.status,
        title=titles.get(error.status, "Error"),
        message=error.message,
        errors=error.errors,
        base_template=current_app.appbuilder.base_template,
        appbuilder=current_app.appbuilder,
    ), error.status


def _plugin_route() -> bool:
    """True when the request is for one of the plugin's routes (its pages, APIs, static files, RQ dashboard)."""
    return request.blueprint in current_app.extensions[EXTENSION].get("blueprints", ())


def protect_plugin_writes():
    """The plugin's routes refuse a write without the session's CSRF token (form field ``csrf_token`` or header
    ``X-CSRFToken``), whatever the host's CSRF set-up; API calls with a bearer token need none."""
    if request.method in SAFE_METHODS or not _plugin_route() or request.blueprint == "rq_dashboard":
        return None
    if request.headers.get("Authorization", "").startswith("Bearer ") and request.path.startswith("/api/"):
        return None
    token = request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    try:
        validate_csrf(token)
    except ValidationError as exc:
        message = f"CSRF check failed: {exc}"
        if _wants_json():
            return jsonify(message=message), 400
        return render_template(
            "psa/error.html",
            status=400,
            title="Please reload the page",
            message=message,
            errors={},
            base_template=current_app.appbuilder.base_template,
            appbuilder=current_app.appbuilder,
        ), 400
    return None


def add_security_headers(response):
    """Standard security headers on the plugin's routes (every response where the host opts in); the RQ
    dashboard's routes get their own script policy."""
    if settings().security_headers != "all" and not (has_request_context() and _plugin_route()):
        return response
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    nonce_of = current_app.jinja_env.globals.get("csp_nonce", csp_nonce)
    nonce = nonce_of() if "psa.csp_nonce" in request.environ or nonce_of is not csp_nonce else None
    response.headers.setdefault(
        "Content-Security-Policy", content_security_policy(nonce, rq_dashboard=request.blueprint == "rq_dashboard")
    )
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def guard_rq_dashboard():
    """The RQ dashboard is for Admin only, and its writes must come from this site."""
    if request.blueprint != "rq_dashboard":
        return None
    actor = current_actor()
    if actor is None or not actor.is_admin:
        return ("The RQ dashboard is available to Admin users only.", 403)
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if request.method not in ("GET", "HEAD") and (not origin or urlsplit(origin).netloc != request.host):
        return ("Cross-site request refused.", 403)
    return None


def install_rq_dashboard(app: Flask) -> None:
    """Mount rq-dashboard at /psa/rq behind the Admin check."""
    import rq_dashboard

    if "rq_dashboard" not in app.blueprints:
        app.register_blueprint(rq_dashboard.blueprint, url_prefix="/psa/rq")
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(rq_dashboard.blueprint)
    app.before_request(guard_rq_dashboard)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("msphub_psa.access")


def start_request_log() -> None:
    """Give the request an id (the caller's ``X-Request-Id`` when sane) bound to every record it logs;
    :func:`msphub_psa.tenancy.current_actor` adds the user and partner once the request knows them."""
    env = request.environ
    given = request.headers.get("X-Request-Id", "")
    env["psa.request_id"] = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    env["psa.started"] = time.perf_counter()
    env["psa.log_token"] = bind_log_context(request_id=env["psa.request_id"])


def _known_user() -> tuple[str | None, int | None]:
    """The user and partner the request already resolved (no query is made for the log)."""
    actor = request_cache().get("actor")
    if actor is not None:
        return actor.username, actor.partner_id
    user = getattr(g, "_login_user", None)
    if not getattr(user, "is_authenticated", False):
        try:  # a JWT verified in this request (already loaded: no query)
            from flask_jwt_extended import get_current_user

            user = get_current_user()
        except RuntimeError:
            user = None
    return getattr(user, "username", None), None


def finish_request_log(response):
    """One access line per request: method, path (no query string: it may carry search text), status,
    duration, user, partner; and the request id back to the caller."""
    env = request.environ
    request_id = env.get("psa.request_id")
    if request_id is None:
        return response
    response.headers.setdefault("X-Request-Id", request_id)
    if request.path.startswith(("/static/", "/psa/static/")):
        return response
    username, partner_id = _known_user()
    started = env.get("psa.started", time.perf_counter())
    access_log.info(
        "%s %s -> %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "http_method": request.method,
            "http_path": request.path,
            "http_status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user": username,
            "partner_id": partner_id,
        },
    )
    return response


def end_request_log(_exc=None) -> None:
    """Unbind the request's ids (the server thread serves other requests next)."""
    token = request.environ.pop("psa.log_token", None)
    if token is not None:
        unbind_log_context(token)


def plugin_blueprints(appbuilder) -> frozenset[str]:
    """The blueprints of the plugin's views and APIs, its static files and the RQ dashboard."""
    ours = {
        view.blueprint.name
        for view in appbuilder.baseviews
        if type(view).__module__.startswith("msphub_psa.") and getattr(view, "blueprint", None) is not None
    }
    return frozenset(ours | {"psa", "rq_dashboard"})


def check_schema_once() -> None:
    """On the process's first request: log an error naming what is wrong with the plugin's tables or the
    marketplace contract (``flask psa db check`` says the same); requests go on either way."""
    ext = current_app.extensions[EXTENSION]
    if ext.get("schema_checked"):
        return
    ext["schema_checked"] = True
    for problem in SchemaStatusCommand().problems():
        log.error("ConnectWise PSA plugin: %s", problem)


# -- what the pages show: times in one format and one zone, weekday names ----------------------------------------

WEEKDAYS = (
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
)
TIME_FORMAT = "%Y-%m-%d %H:%M"  # psa.js's psaWhen writes the same


def page_timezone() -> str:
    """The zone every time of the page is shown in: the user's own (User Tenants), else their partner's, else
    UTC; named once per page."""
    if not has_request_context():
        return "UTC"
    cache = request_cache()
    if "psa_zone" not in cache:
        cache["psa_zone"] = _known_zone(access.actor_zone(current_actor()))
    return cache["psa_zone"]


def _known_zone(name: str | None) -> str:
    """``name`` when it is a timezone this machine knows, else UTC."""
    try:
        ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name or "UTC"


def format_when(value, weekday: bool = False) -> str:
    """A UTC moment (datetime, naive = UTC, or ISO text) as ``YYYY-MM-DD HH:MM`` in the page's zone
    (``Monday, YYYY-MM-DD HH:MM`` with ``weekday``); empty for none."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(ZoneInfo(page_timezone()))
    return local.strftime(("%A, " if weekday else "") + TIME_FORMAT)


def format_days(days) -> str:
    """Schedule days (``["mon", "wed", "fri"]``) in words: "every day", "Monday to Friday",
    "Monday, Wednesday and Friday"."""
    chosen = [name for key, name in WEEKDAYS if key in set(days or ())]
    if len(chosen) == 7:
        return "every day"
    if chosen == [name for _key, name in WEEKDAYS[:5]]:
        return "Monday to Friday"
    if not chosen:
        return "no day"
    return chosen[0] if len(chosen) == 1 else ", ".join(chosen[:-1]) + " and " + chosen[-1]


def install_page_helpers(app: Flask) -> None:
    """Template helpers of the plugin's pages: ``csp_nonce()`` (as FAB's templates expect it), the page's
    timezone, and the ``psa_when`` / ``psa_days`` filters."""
    app.jinja_env.globals.setdefault("csp_nonce", csp_nonce)
    app.jinja_env.globals["psa_timezone"] = page_timezone
    app.jinja_env.filters["psa_when"] = format_when
    app.jinja_env.filters["psa_days"] = format_days


# -- FAB's own pages under the plugin's policy ---------------------------------------------------------------------


class BarChartWidget(RenderTemplateWidget):
    """FAB's direct chart drawn as plain HTML bars: Google Charts' loader (FAB's default) fetches its library
    from www.gstatic.com at run time, which the policy (and an offline operator network) refuses."""

    template = "psa/bar_chart.html"


def install_user_stats_chart(appbuilder) -> None:
    """Security → User's Statistics draws its chart without a third-party script."""
    chart_class = getattr(appbuilder.sm, "userstatschartview", None)
    for view in appbuilder.baseviews:
        if chart_class is not None and isinstance(view, chart_class):
            view.chart_widget = BarChartWidget


MONEY_COLUMNS = frozenset({"amount", "unit_price", "unit_cost"})
QUANTITY_COLUMNS = frozenset({"quantity"})
COUNT_COLUMNS = frozenset({"counts"})


def page_currency() -> str | None:
    """The signed-in partner user's currency (None for the others: their lists may mix partners)."""
    if not has_request_context():
        return None
    cache = request_cache()
    if "psa_currency" not in cache:
        cache["psa_currency"] = access.actor_currency(current_actor())
    return cache["psa_currency"]


def format_money(value, currency: str | None = None) -> str:
    """An amount with separators and two decimals, in ``currency`` (else the page's) as psa.js's psaMoney writes
    it ("$169,678.46"); without a currency (Admin's mixed lists) the number alone ("169,678.46")."""
    if value is None or value == "":
        return ""
    currency = currency or page_currency()
    try:
        if currency:
            return format_currency(value, currency, locale="en_US")
        return format_decimal(value, format="#,##0.00", locale="en_US")
    except (ValueError, ArithmeticError):
        return str(value)


def format_quantity(value) -> str:
    """A quantity without trailing zeros ("40.0000" -> "40", "2.5000" -> "2.5")."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.####", locale="en_US")


def format_counts(value) -> str:
    """A run's rows by outcome ({"pushed": 74, "failed": 1}) as "74 pushed, 1 failed"."""
    if not value:
        return "nothing to push" if value == {} else ""
    if isinstance(value, dict):
        return ", ".join(f"{count} {outcome}" for outcome, count in value.items())
    return str(value)


def install_console_formats(appbuilder) -> None:
    """The plugin's console lists and pages (FAB model views) in the pages' formats: times in the page's zone, named
    once (psa/console_list.html, psa/console_show.html), money with separators in the partner's currency,
    quantities without trailing zeros, a run's counts in words."""
    from flask_appbuilder import ModelView

    for view in appbuilder.baseviews:
        if not isinstance(view, ModelView) or not type(view).__module__.startswith("msphub_psa."):
            continue
        table = getattr(view.datamodel.obj, "__table__", None)
        if table is None:
            continue
        formats = {}
        for column in table.columns:
            kind = type(column.type).__name__
            if kind == "DateTime":
                formats[column.key] = format_when
            elif column.key in MONEY_COLUMNS:
                formats[column.key] = format_money
            elif column.key in QUANTITY_COLUMNS:
                formats[column.key] = format_quantity
            elif column.key in COUNT_COLUMNS:
                formats[column.key] = format_counts
        view.formatters_columns = {**formats, **(view.formatters_columns or {})}
        if view.list_template == ModelView.list_template:
            view.list_template = "psa/console_list.html"
        if view.show_template == ModelView.show_template:
            view.show_template = "psa/console_show.html"


def _has_rows(model) -> bool:
    """True when ``model``'s table has a row (asked once per request)."""
    cache = request_cache().setdefault("psa_has_rows", {})
    if model not in cache:
        session = current_app.appbuilder.session
        cache[model] = session.query(model.id).limit(1).first() is not None
    return cache[model]


def hide_empty_permission_menus(appbuilder) -> None:
    """Security → Base Permissions, Views/Menus and Permission on Views/Menus list the permission rows FAB keeps
    in its tables; with builtin roles (this plugin's, declared in code) there are none, so those entries leave
    the menu while their table is empty (the Roles list shows what each role may do)."""
    sm = appbuilder.sm
    models = {
        getattr(sm, "permissionmodelview", None): sm.permission_model,
        getattr(sm, "viewmenumodelview", None): sm.viewmenu_model,
        getattr(sm, "permissionviewmodelview", None): sm.permissionview_model,
    }
    for category in appbuilder.menu.menu:
        for item in category.childs or ():
            for view_class, model in models.items():
                if view_class is not None and isinstance(item.baseview, view_class) and item.cond is None:
                    item.cond = lambda model=model: not has_request_context() or _has_rows(model)


def install_web_hooks(app: Flask) -> None:
    """Error handler, the plugin's CSRF check and security headers, access log with request ids, the RQ
    dashboard, ``csrf_token()`` in templates (where the host has no CSRFProtect) and the pages' helpers."""
    app.extensions[EXTENSION]["blueprints"] = plugin_blueprints(app.appbuilder)
    app.jinja_env.globals.setdefault("csrf_token", generate_csrf)
    install_page_helpers(app)
    install_user_stats_chart(app.appbuilder)
    install_console_formats(app.appbuilder)
    app.register_error_handler(CommandError, handle_command_error)
    app.before_request(check_schema_once)
    app.before_request(protect_plugin_writes)
    app.before_request(start_request_log)
    app.after_request(add_security_headers)
    app.after_request(finish_request_log)
    app.teardown_request(end_request_log)
    install_rq_dashboard(app)
