"""Resource names, the read/write method map and the roles, as data.

Roles are FAB *builtin* roles: their permissions are these patterns, checked in
memory (``re.fullmatch`` semantics through anchored patterns); only the role
rows live in the database. Nothing else in the plugin names a permission.

The plugin knows its roles by key (``ADMIN``, ``DISTRIBUTOR_ADMIN``, ``PARTNER_ADMIN``,
``PARTNER_VIEWER``); their names in the host are settings (``PSA_ROLE_*``), so an actor's
roles are keys (:func:`role_keys`) and FAB sees names (:func:`builtin_roles`). The host's admin
role is declared builtin only where ``PSA_BUILTIN_ADMIN_ROLE`` says so: a host's own admin role
keeps the permissions the host gave it.
"""

from __future__ import annotations

import re

READ, WRITE = "can_read", "can_write"

# One resource per feature.
FEATURE = "PSA Feature"
INTEGRATION = "PSA Integration"
RULES = "PSA Rules"
RECONCILIATION = "PSA Reconciliation"
SYNC = "PSA Sync"
AUDIT = "PSA Audit"
HUB_DATA = "Hub Data"
CONSOLE = "PSA Console"

# FAB view/api methods -> our two permissions (Superset's MODEL_API_RW_METHOD_PERMISSION_MAP);
# FAB prefixes the values with "can_".
_R, _W = READ[4:], WRITE[4:]
METHOD_PERMISSIONS = {
    "get": _R,
    "get_list": _R,
    "info": _R,
    "list": _R,
    "show": _R,
    "api": _R,
    "api_read": _R,
    "api_get": _R,
    "api_column_add": _R,
    "api_column_edit": _R,
    "api_readvalues": _R,
    "index": _R,
    "status": _R,
    "matching": _R,
    "preview": _R,
    "post": _W,
    "put": _W,
    "delete": _W,
    "add": _W,
    "edit": _W,
    "action": _W,
    "action_post": _W,
    "api_create": _W,
    "api_update": _W,
    "api_delete": _W,
    "bulk_delete": _W,
    "write": _W,
    # ConnectWise integration card
    "card": _R,
    "activate": _W,
    "deactivate": _W,
    # Reconciliation Center
    "summary": _R,
    "chart": _R,
    "customers": _R,
    "companies": _R,
    "suggestions": _R,
    "exact_matches": _R,
    "directory": _R,
    "map_customer": _W,
    "unmap_customer": _W,
    "map_exact": _W,
    "refresh": _W,
    # Products / Subscriptions tab
    "subscriptions": _R,
    "agreements": _R,
    "remap_preview": _R,
    "subscription_history": _R,
    "unmapped_subscriptions": _R,
    "associate_preview": _W,
    "map_subscriptions": _W,
    "remap_subscription": _W,
    "automap_subscriptions": _W,
    # Configure Product Defaults
    "move": _W,
    "put_default": _W,
    "refresh_lists": _W,
    # Operations: audit log export
    "export": _R,
    # Billing push
    "run_push": _W,
    "retry_failed": _W,
    # Revenue assurance (read-back, findings, decisions)
    "assurance_run": _W,
    "assurance_findings": _R,
    "assurance_resolve": _W,
    "run_detail": _R,
    "item_detail": _R,
    "check": _R,  # the rows the pre-flight checks blocked
    # Billing sync as people follow it: progress, run history, a run's failed rows, alerts
    "progress": _R,
    "run_list": _R,
    "run_failures": _R,
    "run_page": _R,
    "acknowledge": _W,
    # Billing sync control: preview, approval, settings
    "prepare_preview": _W,
    "preview_detail": _R,
    "approve_preview": _W,
    "discard_preview": _W,
    "get_settings": _R,
    "put_settings": _W,
}

# Menu entries (their names are also FAB "menu_access" view names).
MENU_MY_ORG = "My Organization"
MENU_PSA = "PSA Integration"
MENU_RECONCILIATION = "Reconciliation Center"
MENU_PRODUCT_DEFAULTS = "Configure Product Defaults"
MENU_SYNC_PREVIEW = "Billing Sync Preview"
MENU_SYNC_SETTINGS = "Sync Settings"
MENU_DISTRIBUTOR = "Distributor"
MENU_PARTNER_FEATURES = "Partner Features"
MENU_MARKETPLACE = "Marketplace"
MENU_SYNC = "Billing Sync"  # Sync now, progress, run history, alerts
MENU_SYNC_RUNS, MENU_SYNC_ITEMS = "Sync Runs", "Sync Outbox"  # console views

ADMIN = "admin"
DISTRIBUTOR_ADMIN = "distributor_admin"
PARTNER_ADMIN = "partner_admin"
PARTNER_VIEWER = "partner_viewer"
PARTNER_ROLES = (PARTNER_ADMIN, PARTNER_VIEWER)
ROLE_KEYS = (ADMIN, DISTRIBUTOR_ADMIN, PARTNER_ADMIN, PARTNER_VIEWER)

_SELF_SERVICE = [
    ("^UserInfoEditView$", "^(can_this_form_get|can_this_form_post)$"),
    ("^UserDBModelView$", "^can_userinfo$"),
    ("^ResetMyPasswordView$", "^(can_this_form_get|can_this_form_post)$"),
    ("^(Menu|MenuApi)$", "^can_get$"),
]
# Operations: every API user may read the OpenAPI spec and Swagger UI (scripting the product).
_API_DOCS = [("^OpenApi$", "^can_get$"), ("^SwaggerView$", "^can_show$")]
_PARTNER_RESOURCES = f"^({INTEGRATION}|{RULES}|{RECONCILIATION}|{SYNC}|{AUDIT}|{HUB_DATA})$"
_PARTNER_MENUS = (
    f"^(My Account|{MENU_MY_ORG}|{MENU_PSA}|{MENU_RECONCILIATION}|{MENU_PRODUCT_DEFAULTS}|{MENU_MARKETPLACE}"
    "|Console|Audit Log"
    "|Customers|Subscriptions|Billing Transactions"
    f"|{MENU_SYNC}|{MENU_SYNC_RUNS}|{MENU_SYNC_ITEMS}|{MENU_SYNC_PREVIEW}|{MENU_SYNC_SETTINGS})$"
)

ROLES: dict[str, list[tuple[str, str]]] = {
    ADMIN: [(".*", ".*")],
    DISTRIBUTOR_ADMIN: [
        (f"^{FEATURE}$", f"^({READ}|{WRITE})$"),
        (f"^({MENU_DISTRIBUTOR}|{MENU_PARTNER_FEATURES})$", "^menu_access$"),
        *_SELF_SERVICE,
        *_API_DOCS,
    ],
    PARTNER_ADMIN: [
        (_PARTNER_RESOURCES, f"^({READ}|{WRITE})$"),
        (_PARTNER_MENUS, "^menu_access$"),
        *_SELF_SERVICE,
        *_API_DOCS,
    ],
    PARTNER_VIEWER: [
        (_PARTNER_RESOURCES, f"^{READ}$"),
        (_PARTNER_MENUS, "^menu_access$"),
        *_SELF_SERVICE,
        *_API_DOCS,
    ],
}


def role_allows(role_keys: list[str] | tuple[str, ...], permission: str, resource: str) -> bool:
    """True when one of the roles (keys) grants ``permission`` on ``resource``."""
    return any(
        re.match(view, resource) and re.match(perm, permission)
        for key in role_keys
        for view, perm in ROLES.get(key, [])
    )


def role_names(config) -> dict[str, str]:
    """Each role key's name in the host (``config``: the plugin's settings)."""
    return {
        ADMIN: config.role_admin,
        DISTRIBUTOR_ADMIN: config.role_distributor_admin,
        PARTNER_ADMIN: config.role_partner_admin,
        PARTNER_VIEWER: config.role_partner_viewer,
    }


def role_keys(names, config) -> tuple[str, ...]:
    """The keys of the roles named ``names`` (names the plugin does not know are left out)."""
    by_name = {name: key for key, name in role_names(config).items()}
    return tuple(sorted(by_name[name] for name in set(names) if name in by_name))


def builtin_roles(config) -> dict[str, list[list[str]]]:
    """FAB's ``builtin_roles`` entries the plugin declares: its roles, and the admin role only when asked."""
    names = role_names(config)
    return {
        names[key]: [list(pair) for pair in pairs]
        for key, pairs in ROLES.items()
        if key != ADMIN or config.builtin_admin_role
    }
