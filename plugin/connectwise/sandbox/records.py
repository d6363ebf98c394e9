"""Record writes with ConnectWise's semantics: POST, PUT, PATCH (JSON Patch), DELETE.

References come in as ``{"id": n}`` (or ``{"identifier": ...}``) and go out with ``name``/
``identifier`` and an ``_info`` href; ``_info.lastUpdated`` is bumped on every write.
No idempotency: two identical POSTs create two records.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from .resources import (
    RESOURCES,
    InvalidObject,
    Record,
    Resource,
    apply_defaults,
    convert_input,
    field_error,
    format_dt,
    shape_errors,
)
from .store import Store

UPDATED_BY = "sandbox"
HREF_BASE = "https://sandbox.connectwise.invalid/v4_6_release/apis/3.0"


class NotFound(Exception):
    """404 ``NotFound``."""


class PatchFailure(Exception):
    """A malformed JSON Patch document (400)."""


def now_text() -> str:
    """The current UTC time in ConnectWise's format."""
    return format_dt(datetime.now(UTC))


def index_value(resource: Resource, record: Record) -> int | None:
    """The record's parent id for the store's index (agreement, company, category)."""
    if not resource.index:
        return None
    value: Any = record
    for key in resource.index:
        value = value.get(key) if isinstance(value, dict) else None
    return int(value) if value is not None else None


def load(store: Store, account: str, resource: Resource, record_id: int, parent_id: int | None = None) -> Record:
    """A stored record, checked against its URL parent.

    :raises NotFound: when there is no such record (under that parent).
    """
    record = store.get(account, resource.name, record_id)
    if record is None or (parent_id is not None and record.get("agreementId") != parent_id):
        raise NotFound(f"{resource.object_name[:1].upper()}{resource.object_name[1:]} {record_id} not found")
    return record


def render_ref(target: Resource, record: Record) -> Record:
    """The outgoing reference shape of ``record``."""
    ref: Record = {"id": record["id"]}
    for key in ("identifier", "name"):
        if key in target.fields:
            ref[key] = record.get(key)
    if target.name == "agreements":
        ref["type"] = (record.get("type") or {}).get("name")
    ref["_info"] = {f"{target.object_name}_href": f"{HREF_BASE}{target.path}/{record['id']}"}
    return ref


def _find_ref(store: Store, account: str, target: Resource, ref: Record) -> Record | None:
    """The record a reference points at (by id, else by identifier/name)."""
    if "id" in ref:
        return store.get(account, target.name, ref["id"])
    key = "identifier" if "identifier" in ref and "identifier" in target.fields else "name"
    wanted = str(ref.get(key, "")).lower()
    return next((r for r in store.scan(account, target.name) if str(r.get(key, "")).lower() == wanted), None)


def resolve_refs(store: Store, account: str, resource: Resource, record: Record) -> list[dict]:
    """Replace checked references by their outgoing shape; errors for unknown ones."""
    errors = []
    for name, spec in resource.fields.items():
        if spec.kind not in ("ref", "refs") or not spec.target or record.get(name) is None:
            continue
        target, many = RESOURCES[spec.target], spec.kind == "refs"
        resolved = []
        for ref in record[name] if many else [record[name]]:
            found = _find_ref(store, account, target, ref)
            if found is None:
                errors.append(
                    field_error(
                        "InvalidField", f"{name} {ref.get('id', ref)} was not found.", resource.object_name, name
                    )
                )
            else:
                resolved.append(render_ref(target, found))
        record[name] = resolved if many else (resolved[0] if resolved else record[name])
    return errors


def build(
    store: Store,
    account: str,
    resource: Resource,
    fields: Record,
    *,
    existing: Record | None = None,
    parent: Record | None = None,
    check: bool = True,
) -> Record:
    """Turn converted input into a stored record: defaults, refs, rules, computed fields.

    :raises InvalidObject: with every refused field.
    """
    record = dict(fields)
    for name in resource.post_only if existing else ():
        record[name] = existing.get(name)
    apply_defaults(resource, record)
    if parent is not None:
        record["agreementId"] = parent["id"]
        record["agreementStatus"] = parent.get("agreementStatus")
    errors = shape_errors(resource, record) + resolve_refs(store, account, resource, record)
    if resource.compute:
        resource.compute(record)
    if check and resource.check:
        errors += resource.check(store, account, record, parent, existing)
    if errors:
        raise InvalidObject(resource.object_name, errors)
    return _stamp(record, existing)


def _stamp(record: Record, existing: Record | None) -> Record:
    """Carry id and soft-delete state over, and set ``_info``."""
    now = now_text()
    before = (existing or {}).get("_info") or {}
    if existing:
        record["id"] = existing["id"]
        for key in ("deletedFlag", "dateDeleted"):
            if key in existing:
                record[key] = existing[key]
    record["_info"] = {
        "lastUpdated": now,
        "updatedBy": UPDATED_BY,
        "dateEntered": before.get("dateEntered", now),
        "enteredBy": before.get("enteredBy", UPDATED_BY),
    }
    return record


def create(
    store: Store, account: str, resource: Resource, body: Any, *, parent: Record | None = None, check: bool = True
) -> Record:
    """POST: validate and insert a new record (never deduplicated)."""
    source = body if isinstance(body, dict) else None
    fields = convert_input(resource, body)
    if not check and source and "id" in source:
        fields["id"] = int(source["id"])
    record = build(store, account, resource, fields, parent=parent, check=check)
    if resource.soft_delete:
        record.setdefault("deletedFlag", False)
    return store.insert(account, resource.name, record, index_value(resource, record))


def replace(
    store: Store, account: str, resource: Resource, existing: Record, body: Any, *, parent: Record | None = None
) -> Record:
    """PUT: replace every writable field (unspecified ones reset)."""
    record = build(store, account, resource, convert_input(resource, body), existing=existing, parent=parent)
    store.update(account, resource.name, record, index_value(resource, record))
    return record


def patch(
    store: Store, account: str, resource: Resource, existing: Record, ops: Any, *, parent: Record | None = None
) -> Record:
    """PATCH: apply JSON Patch operations, then validate the result as a whole."""
    document = apply_patch(resource, copy.deepcopy(existing), ops)
    return replace(store, account, resource, existing, document, parent=parent)


def apply_patch(resource: Resource, document: Record, ops: Any) -> Record:
    """Apply ``[{"op", "path", "value"}]`` (add/replace/remove, case-sensitive paths).

    :raises PatchFailure: for a malformed operation or an unknown path.
    """
    if not isinstance(ops, list) or not ops:
        raise PatchFailure("The request body must be a JSON Patch array of operations.")
    for op in ops:
        if not isinstance(op, dict) or str(op.get("op", "")).lower() not in ("add", "replace", "remove"):
            raise PatchFailure(f"Invalid patch operation: {op!r}")
        keys = str(op.get("path", "")).strip("/").split("/")
        if keys[0] not in resource.fields:
            raise PatchFailure(f"{keys[0]} is not a valid field of {resource.object_name}.")
        target = document
        for key in keys[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        if str(op["op"]).lower() == "remove":
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = op.get("value")
    return document


def remove(store: Store, account: str, resource: Resource, existing: Record) -> None:
    """DELETE: soft for companies (``deletedFlag``), hard otherwise.

    :raises InvalidObject: when the resource's delete rule refuses it (nothing changes).
    """
    errors = resource.delete_check(store, account, existing) if resource.delete_check else []
    if errors:
        raise InvalidObject(resource.object_name, errors)
    if not resource.soft_delete:
        store.delete(account, resource.name, existing["id"])
        return
    existing.update(deletedFlag=True, dateDeleted=now_text())
    existing["_info"] = {**existing.get("_info", {}), "lastUpdated": now_text(), "updatedBy": UPDATED_BY}
    store.update(account, resource.name, existing, index_value(resource, existing))
