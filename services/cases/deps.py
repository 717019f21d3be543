"""What the cases handlers need besides the pool."""

from dataclasses import dataclass, field

from services.cases.settings import CasesSettings
from shared.clock import Clock
from shared.outbox import OutboxRelay
from shared.rate_limit import RateLimiter
from shared.rpc import RpcClient


@dataclass
class CasesDeps:
    clock: Clock = field(default_factory=Clock)
    settings: CasesSettings = field(default_factory=CasesSettings)
    peers: RpcClient | None = None  # accounts, for the names of the applicants' units
    rate_limits: RateLimiter = field(default_factory=RateLimiter)  # verification, objections
    relay: OutboxRelay | None = None  # the service's: moves send their events at commit
