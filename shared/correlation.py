"""The request id: one id per HTTP request, carried through everything it causes.

The gateway takes the caller's `X-Request-ID` (or makes one) and sets it here; the RPC client
sends it with every call, the RPC router sets it again in the service for that call, events
written meanwhile carry it as their `correlation_id`, and a consumer sets it from the event it
handles, so the SMS a batch approval causes carries the id of that approval's request. Every
log line shows it (`setup_logging`), `-` where there is none.

Beside it, where they are known, who acts (`actor`: the user id the gateway's session names,
which the RPC router sets again in the service) and which case the work is about (`case_id`:
the route's `{case_id}`, an RPC's `case_id` param, an event payload's `case_id`); the JSON log
lines carry them (shared/logs.py).
"""

import itertools
import logging
import os
import re
import secrets
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
actor: ContextVar[str | None] = ContextVar("actor", default=None)
case_id: ContextVar[str | None] = ContextVar("case_id", default=None)

_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def current() -> str | None:
    return request_id.get()


def new_request_id() -> str:
    return new_id()


# Ids unique across processes without asking the kernel for randomness each time (uuid4
# reads os.urandom: a system call per request, ~2 % of the gateway's CPU on a vote): a random
# prefix per process, then a counter. 32 hex characters, as uuid4().hex was.
def _fresh_prefix() -> None:
    global _PREFIX, _COUNTER
    _PREFIX, _COUNTER = secrets.token_hex(10), itertools.count(1)


_fresh_prefix()
os.register_at_fork(after_in_child=_fresh_prefix)  # a forked child is another process


def new_id() -> str:
    """An id no other process makes: this process's random prefix and a counter."""
    return f"{_PREFIX}{next(_COUNTER):012x}"


def accepted(candidate: str | None) -> str:
    """A caller's id when it is one we can carry safely (and log); else a new one."""
    if candidate and _ACCEPTED.fullmatch(candidate):
        return candidate
    return new_request_id()


def install_log_field() -> None:
    """Every log record gets `request_id` (so formats and tests can show or read it), and
    `actor` and `case_id` (None where unknown)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id.get() or "-"
        record.actor = actor.get()
        record.case_id = case_id.get()
        return record

    factory.adds_request_id = True
    logging.setLogRecordFactory(factory)
