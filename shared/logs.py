"""Log lines: plain and greppable for a person at a terminal (the default), or one JSON object
per line for a log collector (`ZC_LOG_FORMAT=json`).

plain: time, level, process name, request id, logger, message.
json: {"time" (ISO 8601, UTC), "level", "process", "pid", "logger", "message", "request_id",
"actor", "case_id"} (null where unknown, shared/correlation.py), and "exception" with the
traceback when the record has one.
"""

import json
import logging
from datetime import UTC, datetime

from shared.correlation import install_log_field
from shared.settings import get_settings

PLAIN = "%(asctime)s %(levelname)-7s {process} [%(request_id)s] %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "process": self.process,
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None if request_id in (None, "-") else request_id,
            "actor": getattr(record, "actor", None),
            "case_id": getattr(record, "case_id", None),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_handler(process: str, log_format: str = "plain", stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(process))
    else:
        handler.setFormatter(logging.Formatter(PLAIN.format(process=process)))
    return handler


def setup_logging(level: str, process: str, log_format: str | None = None) -> None:
    """Records of every logger to stderr in `log_format` (default: ZC_LOG_FORMAT)."""
    install_log_field()
    log_format = log_format or get_settings().log_format
    logging.basicConfig(level=level.upper(), handlers=[log_handler(process, log_format)])
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
