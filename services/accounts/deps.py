"""What the accounts handlers need besides the pool, wired once per process."""

from collections.abc import Callable
from dataclasses import dataclass, field

from services.accounts.domain.credentials import new_captcha_text
from services.accounts.enrolment import EnrolmentRegistry, TableEnrolmentRegistry
from services.accounts.settings import AccountsSettings
from shared.clock import Clock
from shared.rate_limit import RateLimiter
from shared.rpc import RpcClient


@dataclass
class AccountsDeps:
    settings: AccountsSettings = field(default_factory=AccountsSettings)
    clock: Clock = field(default_factory=Clock)
    registry: EnrolmentRegistry = field(default_factory=TableEnrolmentRegistry)
    notify: RpcClient | None = None  # sends SMS through the notify service
    captcha_text: Callable[[], str] = new_captcha_text  # tests read what the image shows
    rate_limits: RateLimiter = field(default_factory=RateLimiter)
