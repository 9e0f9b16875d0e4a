"""Calendar arithmetic shared by the rules and the piece checks."""

from __future__ import annotations

import calendar
from datetime import date

__all__ = ["add_months"]


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
