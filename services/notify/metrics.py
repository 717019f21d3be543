"""The notify service's own figures (shared/metrics.py has those every process keeps)."""

from prometheus_client import Counter

SMS_DELIVERIES = Counter(
    "zc_sms_deliveries",
    "SMS delivery status changes recorded, by the status reached: queued, sending, sent"
    " (accepted by the provider), delivered, failed, expired, unsettled.",
    ["status"],
)
