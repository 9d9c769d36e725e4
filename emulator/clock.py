"""The emulator's notion of now, which tests may shift to expire sessions and play URLs at will."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time plus an offset that the admin API sets (``POST /__emulator__/clock``)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset
