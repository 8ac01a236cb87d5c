"""A per-connection frame limiter with rules from settings ("count/seconds")."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True, slots=True)
class Rule:
    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rule:
        try:
            count, seconds = text.split("/")
            rule = cls(int(count), float(seconds))
        except ValueError:
            raise ImproperlyConfigured(
                f"a rate must look like 'count/seconds', got {text!r}"
            ) from None
        if rule.count < 1 or rule.seconds <= 0:
            raise ImproperlyConfigured(f"a rate must be positive, got {text!r}")
        return rule


@dataclass(slots=True)
class TokenBucket:
    """Allows ``rule.count`` events at once, refilled at count/seconds per second."""

    rule: Rule
    tokens: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.rule.count)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        rate = self.rule.count / self.rule.seconds
        self.tokens = min(self.rule.count, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
