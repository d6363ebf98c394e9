"""The partner's page shells and the tenant-scoped ModelView (list, show, edit, delete, actions, dropdowns)."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_appbuilder import BaseView, ModelView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import inspect as sa_inspect

from msphub_psa import permissions
from msphub_psa.commands.access import partner_record
from msphub_psa.domain.actor import Actor
from msphub_psa.tenancy import TenantFilter, current_actor, partner_scope


class PartnerPage(BaseView):
    """A page of one partner's: the partner resolved once, its record, the actor and what it may write.

    A subclass names its route, permission and template, adds its own values in ``context`` and
    exposes ``index`` (and any other page) as ``return self.page()``.
    """

    default_view = "index"
    method_permission_name = permissions.METHOD_PERMISSIONS
    need: str | None = "active"  # the integration state the page requires (None: any)
    template = ""

    def context(self, actor: Actor, partner_id: int, **values: Any) -> dict[str, Any]:
        """The page's own values (none by default)."""
        return values

    def page(self, template: str | None = None, **values: Any):
        """Render the page for the current actor's partner."""
        actor, partner_id = partner_scope(need=self.need)
        return self.render_template(
            template or self.template,
            partner=partner_record(partner_id),
            actor=actor,
            can_write=actor.can(permissions.WRITE, self.class_permission_name),
            can_sync=actor.can(permissions.WRITE, permissions.SYNC),  # the billing sync widget
            **self.context(actor, partner_id, **values),
        )


def _tenant_column(model) -> str | None:
    """The column that names a model's partner: ``partner_id``, or ``id`` for Partner."""
    columns = sa_inspect(model).columns.keys()
    if "partner_id" in columns:
        return "partner_id"
    return "id" if model.__tablename__ == "hub_partner" else None


def _rel_filters(model) -> dict:
    """Dropdown filters restricting every related tenant model to the actor's tenant."""
    filters = {}
    for rel in sa_inspect(model).relationships:
        column = _tenant_column(rel.mapper.class_)
        if column:
            filters[rel.key] = [[column, TenantFilter, None]]
    return filters


class TenantModelView(ModelView):
    """A console view whose every query is limited to the current actor's tenant."""

    class_permission_name = permissions.HUB_DATA
    method_permission_name = permissions.METHOD_PERMISSIONS

    def __init__(self, **kwargs):
        model = self.datamodel.obj
        column = _tenant_column(model)
        if column:
            self.base_filters = [[column, TenantFilter, None], *(self.base_filters or [])]
        rel = _rel_filters(model)
        self.add_query_rel_fields = {**rel, **(getattr(self, "add_query_rel_fields", None) or {})}
        self.edit_query_rel_fields = {**rel, **(getattr(self, "edit_query_rel_fields", None) or {})}
        self.search_form_query_rel_fields = {**rel, **(getattr(self, "search_form_query_rel_fields", None) or {})}
        super().__init__(**kwargs)

    def _check_tenant(self, item) -> None:
        """Abort with 404 when a written item falls outside the actor's tenant."""
        actor = current_actor()
        column = _tenant_column(type(item))
        if actor is None or actor.is_admin or column is None:
            return
        if getattr(item, column) != actor.partner_id:
            abort(404)

    def pre_add(self, item) -> None:
        """Stamp a partner user's own partner on a new row, then check it."""
        actor = current_actor()
        if actor and actor.partner_id is not None and hasattr(item, "partner_id") and item.partner_id is None:
            item.partner_id = actor.partner_id
        self._check_tenant(item)

    def pre_update(self, item) -> None:
        """Refuse to move a row to another tenant."""
        self._check_tenant(item)

    def pre_delete(self, item) -> None:
        """Refuse to delete another tenant's row."""
        self._check_tenant(item)

    def _scoped_items(self, pks: list[str]) -> list:
        """Load selected rows through the tenant filters; 404 if any is missing."""
        items = [self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters) for pk in pks]
        if any(item is None for item in items):
            abort(404)
        return items

    @expose("/action/<string:name>/<pk>", methods=["GET"])
    @has_access
    def action(self, name, pk):
        """Actions change data, so they are POST only (CSRF-protected)."""
        abort(405)

    @expose("/action_post", methods=["POST"])
    @has_access
    def action_post(self):
        """Multi-row action, refusing rows outside the tenant."""
        action = self.actions.get(request.form.get("action", "")) or abort(404)
        return action.func(self._scoped_items(request.form.getlist("rowid")))
