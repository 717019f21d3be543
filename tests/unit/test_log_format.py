"""ZC_LOG_FORMAT=json: one JSON object per record, with what the context knows and nothing made up
(the lines of real processes are read back in tests/faults/test_observability.py)."""

import io
import json
import logging
from datetime import datetime, timedelta

from shared import correlation
from shared.logs import log_handler


def records_of(log_format: str, emit) -> list[str]:
    stream = io.StringIO()
    logger = logging.getLogger(f"zc.test.{log_format}")
    handler = log_handler("cases", log_format, stream)
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue().splitlines()


def test_a_json_line_has_the_request_actor_and_case_it_was_written_for():
    def emit(logger):
        tokens = (
            correlation.request_id.set("req-1"),
            correlation.actor.set("0b9f0c2e-4c1e-4f7e-9d7a-2f6f1b0e8a11"),
            correlation.case_id.set("5d0c3f52-7b8e-4b7a-8f0e-1c2d3e4f5a6b"),
        )
        try:
            logger.warning("批量审核 %d 件", 10)
        finally:
            correlation.case_id.reset(tokens[2])
            correlation.actor.reset(tokens[1])
            correlation.request_id.reset(tokens[0])

    [line] = records_of("json", emit)
    record = json.loads(line)
    assert record["message"] == "批量审核 10 件"
    assert (record["level"], record["process"], record["logger"]) == (
        "WARNING",
        "cases",
        "zc.test.json",
    )
    assert record["request_id"] == "req-1"
    assert record["actor"] == "0b9f0c2e-4c1e-4f7e-9d7a-2f6f1b0e8a11"
    assert record["case_id"] == "5d0c3f52-7b8e-4b7a-8f0e-1c2d3e4f5a6b"
    assert datetime.fromisoformat(record["time"]).utcoffset() == timedelta(0)
    assert "exception" not in record


def test_outside_any_request_the_fields_are_null_and_an_exception_comes_with_its_traceback():
    def emit(logger):
        try:
            {}["missing"]
        except KeyError:
            logger.exception("relay round failed")

    [line] = records_of("json", emit)
    record = json.loads(line)
    assert (record["request_id"], record["actor"], record["case_id"]) == (None, None, None)
    assert record["exception"].startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in record["exception"]


def test_plain_stays_one_readable_line_with_the_request_id():
    def emit(logger):
        token = correlation.request_id.set("req-2")
        try:
            logger.info("ready")
        finally:
            correlation.request_id.reset(token)

    [line] = records_of("plain", emit)
    assert line.endswith("INFO    cases [req-2] zc.test.plain: ready")
