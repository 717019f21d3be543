"""Plain, greppable log lines: time, level, process name, request id, logger, message."""

import logging

from shared.correlation import install_log_field


def setup_logging(level: str, process: str) -> None:
    install_log_field()
    logging.basicConfig(
        level=level.upper(),
        format=f"%(asctime)s %(levelname)-7s {process} [%(request_id)s] %(name)s: %(message)s",
    )
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
