"""Configure Product Defaults schemas: shapes only (the engine checks the business rules)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from msphub_psa.commands.rules.common import RuleData
from msphub_psa.domain.rules import PRODUCT_CLASSES
from msphub_psa.schemas.base import Integer, String, check_text


class ConditionValue(fields.Field):
    """A condition value: one string, or a list of strings (for "is one of")."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Accept a string or a list of strings."""
        if isinstance(value, str):
            return check_text(value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [check_text(v) for v in value]
        raise ValidationError("Enter text, or a list of texts for 'is one of'.")

    def _serialize(self, value, attr, obj, **kwargs):
        """As stored."""
        return list(value) if isinstance(value, tuple) else value


class ConditionSchema(Schema):
    """One condition: a product field, an operator, a value."""

    field = String(
        required=True,
        metadata={"description": "publisher, item_type, product_id, title, billing_term or billing_frequency"},
    )
    operator = String(required=True, metadata={"description": "equals, not_equals, contains, starts_with or in"})
    value = ConditionValue(required=True, metadata={"description": "Text, or a list of texts for `in`"})


class AttributesSchema(Schema):
    """What a rule gives a product in ConnectWise."""

    category = String(required=True)
    subcategory = String(required=True)
    type = String(required=True)
    product_class = String(
        required=True, metadata={"description": "Agreement, Bundle, Inventory, NonInventory or Service"}
    )
    version = Integer(load_default=None, metadata={"description": "The version you edited (conflict check)"})


class RulePostSchema(AttributesSchema):
    """Body of POST (add) and PUT (edit) of a custom rule."""

    conditions = fields.List(fields.Nested(ConditionSchema), required=True)
    priority = Integer(load_default=None, metadata={"description": "1 = checked first; default: last"})


class MoveSchema(Schema):
    """Body of PUT .../move: an absolute priority or a direction."""

    priority = Integer(load_default=None)
    direction = String(load_default=None, validate=validate.OneOf(["up", "down"]))


class PreviewSchema(RulePostSchema):
    """Body of POST .../preview: the change to preview (nothing is saved)."""

    action = String(required=True, validate=validate.OneOf(["create", "edit", "move", "delete"]))
    rule_id = Integer(load_default=None)
    direction = String(load_default=None, validate=validate.OneOf(["up", "down"]))
    conditions = fields.List(fields.Nested(ConditionSchema), load_default=list)
    category = String(load_default="")
    subcategory = String(load_default="")
    type = String(load_default="")
    product_class = String(load_default="")


class MatchingQuerySchema(Schema):
    """Query string of the Matching Products window."""

    page = Integer(load_default=1)
    page_size = Integer(load_default=25)
    q = String(load_default="")


class RuleOutSchema(Schema):
    """A custom rule with its count."""

    id = Integer()
    priority = Integer()
    version = Integer()
    conditions = fields.List(fields.Dict())
    description = fields.List(String())
    category = String()
    subcategory = String()
    type = String()
    product_class = String()
    will_create = fields.List(
        String(), metadata={"description": "Names ConnectWise lacks (created by the catalog sync)"}
    )
    count = Integer(metadata={"description": "Products this rule classifies (first match wins)"})


def _iso(value) -> str | None:
    """ISO-8601 text of a datetime (None stays None)."""
    return value.isoformat() if value is not None else None


def dump_rule(view) -> dict:
    """One RuleView as JSON."""
    row = view.row
    return RuleOutSchema().dump(
        {
            "id": row.id,
            "priority": row.priority,
            "version": row.version,
            "conditions": row.conditions,
            "description": view.descriptions,
            "category": row.category,
            "subcategory": row.subcategory,
            "type": row.product_type,
            "product_class": row.product_class,
            "will_create": sorted(view.new),
            "count": view.count,
        }
    )


def dump_default(row, count: int, new) -> dict:
    """The default rule as JSON."""
    return {
        "id": row.id,
        "version": row.version,
        "category": row.category,
        "subcategory": row.subcategory,
        "type": row.product_type,
        "product_class": row.product_class,
        "will_create": sorted(new),
        "count": count,
    }


def dump_lists(lists, refresh) -> dict:
    """The cached ConnectWise lists and when they were refreshed."""
    return {
        "categories": [{"id": e.id, "name": e.name} for e in lists.categories],
        "subcategories": [{"id": e.id, "name": e.name, "category_id": e.category_id} for e in lists.subcategories],
        "types": [{"id": e.id, "name": e.name} for e in lists.types],
        "product_classes": list(PRODUCT_CLASSES),
        "refreshed_at": _iso(refresh.refreshed_at) if refresh else None,
        "status": refresh.status if refresh else "never",
        "error": refresh.error if refresh else None,
    }


def dump_overview(overview) -> dict:
    """The whole Product Defaults page as JSON."""
    return {
        "partner_id": overview.partner_id,
        "default": dump_default(overview.default, overview.default_count, overview.default_new),
        "rules": [dump_rule(view) for view in overview.rules],
        "total_products": overview.total_products,
        "lists": dump_lists(overview.lists, overview.refresh),
        "can_write": overview.can_write,
    }


def _key(value):
    """A rule key as JSON (ids stay ints, "default"/"new" stay strings)."""
    return value


def dump_preview(preview) -> dict:
    """A preview as JSON."""
    return {
        "moves": [
            {
                "from": _key(m.source),
                "from_label": m.source_label,
                "to": _key(m.target),
                "to_label": m.target_label,
                "count": m.count,
                "text": m.text,
            }
            for m in preview.moves
        ],
        "counts": {str(k): v for k, v in preview.counts.items()},
        "will_create": sorted(preview.new),
        "subject": preview.subject,
    }


def dump_matching(page) -> dict:
    """One page of the Matching Products window as JSON."""
    return {
        "rule_id": page.rule.id,
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
        "pages": page.pages,
        "result": [
            {
                "id": item.id,
                "publisher": item.publisher,
                "item_type": item.item_type,
                "product_id": item.product_id,
                "title": item.title,
                "billing_term": item.billing_term,
                "billing_frequency": item.billing_frequency,
                "claimed_by": claimed,
            }
            for item, claimed in zip(page.items, page.claimed_by, strict=True)
        ],
    }


def rule_data(body: dict):
    """A loaded body as the commands' RuleData."""
    return RuleData(
        conditions=body.get("conditions") or [],
        category=body.get("category", ""),
        subcategory=body.get("subcategory", ""),
        type=body.get("type", ""),
        product_class=body.get("product_class", ""),
        priority=body.get("priority"),
        version=body.get("version"),
    )
