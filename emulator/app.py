"""The emulator's shared state: one instance per process, handed to every route."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.clock import Clock
from emulator.corpus import Corpus
from emulator.faults import FaultConfig, Faults
from emulator.sessions import SessionStore
from emulator.stats import Stats

if TYPE_CHECKING:
    from emulator.webutil import Scheduler

ASSETS = Path(__file__).parent / "assets"
PLAY_URL_TTL = 2 * 86_400  # TikTok's play URLs live a day or two


@dataclass
class App:
    reactor: Scheduler
    seed: int = 1
    session_ttl: float = 3600.0
    clock: Clock = field(default_factory=Clock)
    stats: Stats = field(default_factory=Stats)
    corpus: Corpus = field(init=False)
    sessions: SessionStore = field(init=False)
    faults: Faults = field(init=False)

    def __post_init__(self) -> None:
        self.corpus = Corpus(self.seed)
        self.sessions = SessionStore(self.clock, self.session_ttl)
        self.faults = Faults(self.seed)

    def configure_faults(self, config: FaultConfig) -> None:
        self.faults.config = config
