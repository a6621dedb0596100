"""How long a client waits after a round in which no server answered."""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetrySchedule:
    """Exponential from `base_ms`, capped at `max_ms`, with "equal jitter"
    (a random point in the upper half), so clients that lost the same server
    do not come back in step.

    Invariant: every delay lies in `[d // 2, d]` with
    `d = min(max_ms, base_ms * 2 ** (failed_rounds - 1))`; the randomness
    comes only from the generator given.
    """

    base_ms: int = 100
    max_ms: int = 2_000

    def __post_init__(self) -> None:
        if not 1 <= self.base_ms <= self.max_ms:
            raise ValueError("a retry schedule needs 0 < base_ms <= max_ms")

    def delay_ms(self, failed_rounds: int, generator: random.Random) -> int:
        """The wait after `failed_rounds` (>= 1) rounds without an answer."""
        exponent = min(max(failed_rounds - 1, 0), 20)
        ceiling = min(self.max_ms, self.base_ms << exponent)
        return generator.randint(ceiling // 2, ceiling)
