"""zc_gc_pause_seconds: every collection's pause, by generation (shared/metrics.py)."""

import gc

from shared import metrics


def collections_timed(generation: int) -> float:
    for sample in metrics.GC_PAUSE_SECONDS.collect()[0].samples:
        if sample.name.endswith("_count") and sample.labels["generation"] == str(generation):
            return sample.value
    return 0.0


def test_each_collection_is_timed_once_by_its_generation():
    metrics.time_garbage_collections()
    metrics.time_garbage_collections()  # twice installed is once installed
    before = [collections_timed(g) for g in range(3)]
    gc.collect(0)
    gc.collect(2)
    gc.collect(2)
    after = [collections_timed(g) for g in range(3)]
    assert after[0] - before[0] >= 1  # the collector may run on its own meanwhile, never less
    assert after[2] - before[2] == 2
