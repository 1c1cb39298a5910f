"""Failed sign-ins counted where they are aimed (Warehouse's scheme, issue 16 §3).

Per account (by the e-mail typed, known or not): a few failures lock that account for a short
window, from every address, so guessing one password from many forwarded addresses stops. Per
address: a much higher ceiling that a trade office behind one NAT does not reach by normal use,
so one address spraying many accounts stops too. Successful sign-ins are not counted. The
counts live in the rate limiter's storage (Redis in production), shared by every server; no
Flask and no database here.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem
from limits.strategies import RateLimiter


def _account(email: str) -> str:
    return email.strip().lower()[:254]


@dataclass(frozen=True)
class LoginThrottle:
    limiter: RateLimiter
    per_account: RateLimitItem
    per_address: RateLimitItem
    prefix: str = "registry"

    def _keys(self, email: str, address: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return ((self.prefix, "login-account", _account(email)),
                (self.prefix, "login-address", address))

    @property
    def _notice(self) -> RateLimitItem:
        # One "locked" mail per lock window: the same window as the account's limit.
        return type(self.per_account)(1, self.per_account.multiples)

    def locked(self, email: str, address: str) -> bool:
        """True when the account or the address used up its failures: refuse before the
        password is even checked (a right password would otherwise tell the guesser)."""
        account, addr = self._keys(email, address)
        return not (self.limiter.test(self.per_account, *account)
                    and self.limiter.test(self.per_address, *addr))

    def failed(self, email: str, address: str) -> bool:
        """Count a failure; True the first time in a window that it locks the account (the
        moment to tell its owner, once, not at every later attempt)."""
        account, addr = self._keys(email, address)
        self.limiter.hit(self.per_address, *addr)
        self.limiter.hit(self.per_account, *account)
        if self.limiter.test(self.per_account, *account):
            return False
        return self.limiter.hit(self._notice, self.prefix, "login-locked-notice",
                                _account(email))

    def clear(self, email: str) -> None:
        """A new password (reset) unlocks the account at once."""
        account, _ = self._keys(email, "")
        self.limiter.clear(self.per_account, *account)
        self.limiter.clear(self._notice, self.prefix, "login-locked-notice", _account(email))
