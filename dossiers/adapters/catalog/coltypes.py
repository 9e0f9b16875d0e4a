"""Column types that behave the same on SQLite and PostgreSQL.

- ``Money``: euros with two decimals. ``NUMERIC(14, 2)`` on PostgreSQL; on SQLite, whose NUMERIC
  affinity would store a float, the canonical text ``"127500.00"``. ``Decimal`` in, the same
  ``Decimal`` (same exponent) out; an amount that does not fit exactly is refused, never rounded.
- ``UTCDateTime``: timezone-aware instants, stored in UTC, returned aware in UTC. Naive values are
  refused.
- ``JSONDocument``: JSON, as JSONB on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, DateTime, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["Money", "UTCDateTime", "JSONDocument", "format_amount", "parse_amount"]

CENT = Decimal("0.01")
_MAX_DIGITS = 14  # NUMERIC(14, 2): twelve digits before the point

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def format_amount(value: Decimal) -> str:
    """``Decimal("52500")`` -> ``"52500.00"``; refuses anything that is not exact to the cent."""
    if not isinstance(value, Decimal):
        raise TypeError(f"montant attendu en Decimal, reçu {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"montant invalide : {value}")
    try:
        cents = value.quantize(CENT)
    except InvalidOperation as exc:
        raise ValueError(f"montant hors limites : {value}") from exc
    if cents != value:
        raise ValueError(f"montant non exact au centime : {value}")
    if len(cents.as_tuple().digits) > _MAX_DIGITS:
        raise ValueError(f"montant trop grand : {value}")
    return f"{cents:f}"


def parse_amount(text: str) -> Decimal:
    return Decimal(text).quantize(CENT)


class Money(TypeDecorator[Decimal]):
    impl = Numeric(_MAX_DIGITS, 2, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(20))
        return dialect.type_descriptor(Numeric(_MAX_DIGITS, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        text = format_amount(value)
        return text if dialect.name == "sqlite" else Decimal(text)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return parse_amount(str(value))


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"horodatage sans fuseau horaire refusé : {value.isoformat()}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
