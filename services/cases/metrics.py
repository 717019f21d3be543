"""The cases service's own figures (shared/metrics.py has those every process keeps)."""

from collections.abc import Sequence

from prometheus_client import Counter

from shared.metrics import count

CASE_TRANSITIONS = Counter(
    "zc_case_transitions",
    "Case moves written (one per case, a batch counts each), by workflow action.",
    ["action"],
)


def count_transitions(moved: Sequence) -> None:
    """Counted as they are written: a transaction that fails after its moves were written
    (rare: the request then fails with an error the RPC metrics count) leaves them counted."""
    for m in moved:
        count(CASE_TRANSITIONS, m.event.action.value)
