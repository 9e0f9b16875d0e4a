"""The one clock of conum: every instant and every date a service uses comes from here or from its caller.

Services and adapters never read the wall clock themselves (a test walks the code for
``datetime.now``, ``date.today`` and ``time.time``): entrypoints, actors and the worker middleware ask
``App.clock`` and pass ``now``/``today`` down. Instants are aware UTC datetimes; the dates users
see (a document's date, the ``today`` of a generation, the date of a rule) are dates in Paris, not
in the server's own timezone.

``CONUM_CLOCK_OFFSET_DAYS`` moves the system time of every clock of the process by whole days: it
exists to prove that nothing breaks on a later date (``CONUM_CLOCK_OFFSET_DAYS=1096 make test``),
never for production. It is read here, once, rather than in the settings, so that every clock
moves together: those the tests build for their own catalogs and stores, and those of the worker,
CLI and server processes they start (which inherit the variable).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Clock", "PARIS", "paris_date", "OFFSET_VARIABLE", "offset_from_env"]

PARIS = ZoneInfo("Europe/Paris")
OFFSET_VARIABLE = "CONUM_CLOCK_OFFSET_DAYS"


def offset_from_env(env: Mapping[str, str] = os.environ) -> timedelta:
    raw = env.get(OFFSET_VARIABLE, "").strip()
    if not raw:
        return timedelta(0)
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"{OFFSET_VARIABLE}={raw!r} : attendu un nombre entier de jours") from None
    if abs(days) > 36500:
        raise ValueError(f"{OFFSET_VARIABLE}={raw!r} : au plus 36500 jours")
    return timedelta(days=days)


_SHIFT = offset_from_env()


def _system_now() -> datetime:
    return datetime.now(UTC) + _SHIFT  # the only reading of the wall clock in conum


def paris_date(instant: datetime) -> date:
    """The calendar date in Paris at ``instant`` (an aware datetime)."""
    if instant.tzinfo is None:
        raise ValueError("instant sans fuseau horaire")
    return instant.astimezone(PARIS).date()


class Clock:
    """``now()`` (aware, UTC) and ``today()`` (Paris); ``fixed`` pins it at one instant (tests)."""

    def __init__(self, *, fixed: datetime | None = None) -> None:
        if fixed is not None and fixed.tzinfo is None:
            raise ValueError("instant fixe sans fuseau horaire")
        self._fixed = fixed.astimezone(UTC) if fixed is not None else None

    def now(self) -> datetime:
        return self._fixed if self._fixed is not None else _system_now()

    def today(self) -> date:
        return paris_date(self.now())

    def read(self) -> tuple[datetime, date]:
        """``(now, today)`` from one reading: a document's date is the Paris date of its instant, even
        when the call straddles midnight."""
        now = self.now()
        return now, paris_date(now)

    def __repr__(self) -> str:
        return f"Clock(fixed={self._fixed!r})"
