"""Rate limits for test systems whose every request comes from 127.0.0.1 (or no address):
each limit raised out of reach, so only the tests of the limits themselves meet one."""

from shared.rate_limit import LIMITS, RateLimiter, RateLimitSettings


def out_of_reach() -> RateLimiter:
    return RateLimiter(RateLimitSettings(rate_limits={what: "1000000/60" for what in LIMITS}))
