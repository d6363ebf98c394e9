"""The generic DAO: find, create, update, delete on the request's session."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from flask import current_app
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_ID = 2**31 - 1  # primary keys are INTEGER columns


def session() -> Session:
    """The session FAB was given by the host application."""
    return current_app.appbuilder.session


def ping_database() -> None:
    """Run ``SELECT 1``; raises SQLAlchemyError when the database does not answer."""
    session().execute(text("SELECT 1"))
    session().rollback()


class BaseDAO(Generic[T]):
    """CRUD for one model; subclasses add named queries."""

    model_cls: type[T]

    @classmethod
    def find_by_id(cls, id_: int) -> T | None:
        """The row with this primary key, or None (also for an id no INTEGER column can hold)."""
        if isinstance(id_, int) and not 0 < id_ <= MAX_ID:
            return None
        return session().get(cls.model_cls, id_)

    @classmethod
    def find_by_ids(cls, ids: Iterable[int]) -> list[T]:
        """The rows with these primary keys (missing ones are skipped)."""
        ids = [i for i in ids if not isinstance(i, int) or 0 < i <= MAX_ID]
        if not ids:
            return []
        return list(session().scalars(select(cls.model_cls).where(cls.model_cls.id.in_(ids))))

    @classmethod
    def create(cls, **values: Any) -> T:
        """Add a new row and flush it so it has an id."""
        obj = cls.model_cls(**values)
        session().add(obj)
        session().flush()
        return obj

    @classmethod
    def add(cls, **values: Any) -> T:
        """Add a new row without a flush (it is written with the transaction's next flush or commit): for rows
        nobody reads back at once, as audit events. A flush costs in proportion to everything the session holds."""
        obj = cls.model_cls(**values)
        session().add(obj)
        return obj

    @classmethod
    def insert_many(cls, rows: list[dict[str, Any]]) -> list[int]:
        """Insert many new rows in one statement (no ORM objects: the session's flush stays small); their ids,
        in the order of ``rows``."""
        if not rows:
            return []
        table = cls.model_cls.__table__  # type: ignore[attr-defined]
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(session().execute(statement, rows).scalars())

    @classmethod
    def insert_all(cls, rows: list[dict[str, Any]]) -> None:
        """Insert many new rows in one statement when their ids are not needed: an executemany, which
        both drivers send as one batch (``insert_many``'s ordered RETURNING costs SQLite a statement a row)."""
        if rows:
            session().execute(insert(cls.model_cls.__table__), rows)  # type: ignore[attr-defined]

    @classmethod
    def update(cls, obj: T, **values: Any) -> T:
        """Set attributes on a row and flush."""
        for key, value in values.items():
            setattr(obj, key, value)
        session().flush()
        return obj

    @classmethod
    def delete(cls, obj: T) -> None:
        """Delete a row and flush."""
        session().delete(obj)
        session().flush()
