"""Logging setup for entry points: one format for every service, ids in every line.

Modules log through `logging.getLogger(__name__)` and pass ids (task_id,
event_id, request_id, partition, offset) in `extra`; this formatter appends
whichever of them a record carries.
"""

from __future__ import annotations

import logging
import sys

CONTEXT_FIELDS = ("request_id", "task_id", "event_id", "user_id", "attempt", "topic", "partition", "offset")


class ContextFormatter(logging.Formatter):
    """Formats a record and appends the context ids it carries as key=value pairs."""

    def __init__(self, instance_id: str) -> None:
        super().__init__("%(asctime)s %(levelname)s [%(instance)s] %(name)s: %(message)s")
        self.instance_id = instance_id

    def format(self, record: logging.LogRecord) -> str:
        record.instance = self.instance_id
        line = super().format(record)
        context = [f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS if hasattr(record, name)]
        return f"{line} {' '.join(context)}" if context else line


def configure_logging(instance_id: str, level: str = "INFO") -> None:
    """Send every logger's records to stderr in the shared format; call once per process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ContextFormatter(instance_id))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka logs every transient coordinator lookup at ERROR; keep its WARNINGs and up.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # alembic logs a line per plugin at INFO each time a service or command reads the migration scripts.
    logging.getLogger("alembic.runtime.plugins").setLevel(max(logging.WARNING, root.level))
