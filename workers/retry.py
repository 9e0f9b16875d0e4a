"""Which failures a worker retries: the error policy (``dossiers/errors.py``) as Dramatiq reads it.

Dramatiq's ``Retries`` middleware never retries an exception that is an instance of the actor's
``throws``, and its worker logs such an exception at INFO, not as a crash. The policy belongs to the
error's *code* (an error raised with ``code=`` takes that code's policy; the class only gives the
default code), so no tuple of classes can say it. ``THROWS`` holds one class whose ``isinstance`` asks
the error itself: every actor declares ``throws=THROWS``, and the retry decision lives here only.

- refus, defaut: not retried (``throws``). A defect's trace is logged by ``JobTracking``, since
  Dramatiq logs nothing more than the class name for what ``throws`` matches.
- transitoire: retried with backoff, up to the actor's (or the message's) ``max_retries``.
- anything that is not a ``ConumError`` (a library's exception not translated at its adapter,
  ``TimeLimitExceeded``): retried as before, and logged with its trace by Dramatiq. It may be a
  transient failure conum does not know how to name; it is recorded as ``erreur_interne`` (or
  ``delai_depasse``) when the job ends. ``retry_when`` is not used: it would replace the per-message
  ``max_retries=0`` that runs without a broker rely on (``workers/submit.py``).
"""

from __future__ import annotations

from dossiers.errors import ConumError

__all__ = ["NonRejouee", "THROWS", "retried"]


class _ParPolitique(type):
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, ConumError) and not instance.retried


class NonRejouee(metaclass=_ParPolitique):
    """``isinstance(exc, NonRejouee)``: ``exc`` is a ``ConumError`` its policy says not to retry."""


THROWS: tuple[type, ...] = (NonRejouee,)


def retried(exception: BaseException) -> bool:
    """Whether a worker retries a job that raised ``exception`` (while it has retries left)."""
    return not isinstance(exception, THROWS)
