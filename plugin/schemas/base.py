"""The fields every input schema is built from: integers an INTEGER column can hold, text without control
characters. Input is checked here once, so a value the database cannot store is a 400 naming the field."""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields

from msphub_psa.commands.exceptions import InvalidInputError

DB_INT_MIN, DB_INT_MAX = -(2**31), 2**31 - 1  # ids, counts and versions are INTEGER columns
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # C0, DEL, C1, lone surrogates
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # tabs and newlines allowed
CONTROL_MESSAGE = "Control characters (such as NUL) are not allowed."


def in_db_range(number: int) -> bool:
    """True when an INTEGER column can hold ``number``."""
    return DB_INT_MIN <= number <= DB_INT_MAX


class Integer(fields.Integer):
    """An integer an INTEGER column can hold; a larger one is refused as out of range."""

    default_error_messages = {"db_range": f"Must be between {DB_INT_MIN} and {DB_INT_MAX}."}

    def _validated(self, value):
        """The integer, or a ValidationError when the database could not hold it."""
        number = super()._validated(value)
        if number is not None and not in_db_range(number):
            raise self.make_error("db_range")
        return number


def check_text(text: str, multiline: bool = False) -> str:
    """``text`` when it has no control character (tabs and newlines allowed where ``multiline``).

    :raises ValidationError: otherwise.
    """
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(text):
        raise ValidationError(CONTROL_MESSAGE)
    return text


class String(fields.String):
    """Text without control characters (``multiline=True`` allows tabs and newlines)."""

    def __init__(self, *args, multiline: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        """The text, refused when it carries a control character."""
        return check_text(super()._deserialize(value, attr, data, **kwargs), self.multiline)


class CommaIds(String):
    """``1,2,3`` as ``[1, 2, 3]``: at most ``max_ids`` ids, each one an INTEGER column can hold."""

    def __init__(self, *args, max_ids: int = 200, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_ids = max_ids

    def _deserialize(self, value, attr, data, **kwargs):
        """The ids, or a ValidationError saying what is expected."""
        parts = super()._deserialize(value, attr, data, **kwargs).split(",")
        if len(parts) > self.max_ids or not all(re.fullmatch(r"[0-9]{1,10}", part) for part in parts):
            raise ValidationError(f"Comma-separated ids (at most {self.max_ids}).")
        ids = [int(part) for part in parts]
        if not all(in_db_range(number) for number in ids):
            raise ValidationError(f"Each id must be at most {DB_INT_MAX}.")
        return ids


def int_arg(args, name: str) -> int | None:
    """An optional integer query argument (None when absent or empty).

    :raises InvalidInputError: naming it, when it is not an integer an INTEGER column can hold.
    """
    raw = args.get(name)
    if raw in (None, ""):
        return None
    try:
        return Integer().deserialize(raw)
    except ValidationError as err:
        raise InvalidInputError(f"{name}: {' '.join(err.messages)}", {name: err.messages}) from None
