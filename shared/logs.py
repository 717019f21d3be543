"""Plain, greppable log lines: time, level, process name, logger, message."""

import logging


def setup_logging(level: str, process: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format=f"%(asctime)s %(levelname)-7s {process} %(name)s: %(message)s",
    )
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
