"""The partner's page shells and the tenant-scoped ModelView (list, show, edit, delete, actions, dropdowns)."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, current_app, request
from flask_appbuilder import BaseView, ModelView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import inspect as sa_inspect

from msphub_psa import permissions
from msphub_psa.commands.access import partner_record
from msphub_psa.commands.exceptions import InvalidInputError
from msphub_psa.domain.actor import Actor
from msphub_psa.schemas.base import in_db_range
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


_NUMBER = re.compile(r"-?[0-9]+")
_LIST_ARGS = {"page_": re.compile(r"[0-9]{1,6}"), "psize_": re.compile(r"[0-9]{1,3}")}  # FAB reads them with int()
_FILTER_ARG = re.compile(r"_flt_([0-9])_(.*)")  # FAB's pattern
_BOOLEANS = frozenset({"y", "n", "yes", "no", "t", "f", "true", "false", "1", "0", "on", "off"})


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

    def create_blueprint(self, appbuilder, *args, **kwargs):
        """Every route of the view refuses hostile list arguments and ids before FAB reads them."""
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(self._refuse_hostile_args)
        return blueprint

    def _refuse_hostile_args(self) -> None:
        """A 400 for paging, sorting or filter arguments FAB would choke on; a 404 for an id no row can have.

        :raises InvalidInputError: naming the argument.
        """
        pks = [*request.form.getlist("rowid"), str((request.view_args or {}).get("pk", ""))]
        if any(_NUMBER.fullmatch(pk) and not _fits(pk) for pk in pks):
            abort(404)
        for name, value in request.args.items(multi=True):
            problem = _list_arg_problem(name, value) or self._filter_problem(name, value)
            if problem:
                raise InvalidInputError(f"{name}: {problem}", {name: [problem]})

    def _filter_problem(self, name: str, value: str) -> str | None:
        """What is wrong with a filter argument of this view (``_flt_<index>_<column>``), or None."""
        match = _FILTER_ARG.fullmatch(name)
        if not match:
            return None
        index, column = int(match.group(1)), match.group(2)
        if index >= len(self._filters._all_filters.get(column, ())):
            return "no such filter."
        if self.datamodel.is_integer(column) and not _fits(value):
            return "not a whole number in range."
        if self.datamodel.is_boolean(column) and value.lower() not in _BOOLEANS:
            return "not y or n."
        return None

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


def _fits(text: str) -> bool:
    """True when ``text`` is a whole number an INTEGER column can hold."""
    return bool(_NUMBER.fullmatch(text)) and len(text) <= 11 and in_db_range(int(text))


def _list_arg_problem(name: str, value: str) -> str | None:
    """What is wrong with a paging or sorting argument of any list on the page (``page_<View>``,
    ``psize_<View>``, ``_oc_<View>``), or None."""
    for prefix, pattern in _LIST_ARGS.items():
        if name.startswith(prefix) and not pattern.fullmatch(value):
            return "not a page number or size."
    if name.startswith("_oc_"):
        view = _model_views().get(name[4:])
        if view is not None and value not in view.order_columns:
            return "cannot sort by that column."
    return None


def _model_views() -> dict[str, ModelView]:
    """The app's model views by class name (the name FAB's list arguments carry)."""
    return {type(v).__name__: v for v in current_app.appbuilder.baseviews if isinstance(v, ModelView)}
