"""The broker, set up in one place from settings (nothing connects here: clients connect on first use).

- ``BROKER_URL=redis://…`` (or ``rediss://``, ``unix://``): Dramatiq's Redis broker; a worker that
  dies holding messages has them requeued after ``BROKER_HEARTBEAT_TIMEOUT`` seconds.
- ``BROKER_URL=amqp://…``: RabbitMQ (``pip install 'conum[rabbitmq]'``).
- unset: Dramatiq's in-process stub broker; ``conum submit`` then runs the job in its own process
  (the embedded default for one-shot runs).

Middleware added to Dramatiq's defaults (age and time limits, retries…): job tracking in the
catalog with one JSON log line per job event (``workers.middleware``), the process-wide
``App`` closed at worker shutdown, and Prometheus metrics when ``PROMETHEUS_PORT`` is set.
"""

from __future__ import annotations

import os
import threading

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Retries

from dossiers.settings import Settings

__all__ = ["build_broker", "setup_broker", "is_local", "INTERACTIVE_QUEUES", "BATCH_QUEUE"]

_lock = threading.Lock()
_broker: dramatiq.Broker | None = None


# Interactive jobs and the batch re-issue have queues of their own: a plain `conum worker` consumes the
# interactive ones; the batch runs on `conum worker --reemissions` processes, whose count and
# threads bound its share of the converters (and its actor's priority is the lowest).
INTERACTIVE_QUEUES = ("conventions", "pieces", "archives")
BATCH_QUEUE = "reemissions"


def build_broker(settings: Settings) -> dramatiq.Broker:
    from workers.middleware import AppLifetime, JobTracking

    url = settings.broker_url
    broker: dramatiq.Broker
    if url is None:
        broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith("amqp"):
        try:
            from dramatiq.brokers.rabbitmq import RabbitmqBroker
        except ImportError as exc:  # pika is an extra
            raise RuntimeError("BROKER_URL=amqp://… demande pika : pip install 'conum[rabbitmq]'") from exc
        broker = RabbitmqBroker(url=url)
    else:
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url, heartbeat_timeout=int(settings.broker_heartbeat_timeout * 1000),
                             maintenance_chance=settings.broker_maintenance_chance)
    # Dramatiq runs the after_* hooks in reverse order: placed before Retries, JobTracking's
    # after_process_message runs after Retries' and sees whether the failure will be retried.
    broker.add_middleware(JobTracking(), before=Retries)
    broker.add_middleware(AppLifetime())
    if settings.prometheus_port is not None:
        from dramatiq.middleware.prometheus import Prometheus

        os.environ.setdefault("dramatiq_prom_port", str(settings.prometheus_port))
        broker.add_middleware(Prometheus())
    return broker


def setup_broker(settings: Settings | None = None) -> dramatiq.Broker:
    """The process's broker, built once (the actors module calls it before declaring actors)."""
    global _broker
    with _lock:
        if _broker is None:
            _broker = build_broker(settings or Settings.from_env())
            dramatiq.set_broker(_broker)
        return _broker


def is_local(broker: dramatiq.Broker) -> bool:
    return isinstance(broker, StubBroker)
