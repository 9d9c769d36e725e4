"""Sounds: each item's ``music``, and which items share one.

Most items carry their own "original sound" (id ``ORIGINAL_BASE + index``). One in four uses one of
``SHARED_SOUNDS`` popular tracks instead, so a sound's feed has dozens of videos and pages. As for
creators, which sound an item uses is a function of its index, not a draw of its generator.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.creators import PROLIFIC, PUBLIC_ACCOUNTS

SHARED_SOUNDS = 40
SHARED_BASE = 7_050_000_000_000_000_000
SHARED_STEP = 7_919
ORIGINAL_BASE = 7_100_000_000_000_000_000

_TRACKS = (
    ("Espresso Nights", "Luna Park"),
    ("夜に駆ける (sped up)", "ゆうき🍙"),
    ("Cupid 2.0", "FIFTY KIDS"),
    ("Лето", "Дмитрий"),
    ("Habibi Funk", "Sahara Beat"),
    ("Golden Hour (Remix)", "JVKE fan"),
    ("오늘도 맑음", "김민지"),
    ("Baile Inolvidable", "Ana Lúcia"),
)


@dataclass(frozen=True)
class SharedSound:
    number: int

    @property
    def id(self) -> str:
        return str(SHARED_BASE + self.number * SHARED_STEP)

    @property
    def title(self) -> str:
        title, _artist = _TRACKS[self.number % len(_TRACKS)]
        return title if self.number < len(_TRACKS) else f"{title} {self.number // len(_TRACKS) + 1}"

    @property
    def artist(self) -> str:
        return _TRACKS[self.number % len(_TRACKS)][1]

    @property
    def artist_account(self) -> int:
        """The creator number that ``musicInfo.author`` shows for this track."""
        return PROLIFIC + (self.number * 12) % (PUBLIC_ACCOUNTS - PROLIFIC)

    @property
    def duration(self) -> int:
        return 30 + self.number % 31


def shared_sound_of(index: int) -> SharedSound | None:
    """The popular track item ``index`` uses, if it uses one (one item in four)."""
    if index % 4 != 1:
        return None
    return SharedSound((index // 4) % SHARED_SOUNDS)


def items_of_shared(number: int, size: int) -> range:
    """The item indices that may use shared sound ``number`` (each still needs a ``music``)."""
    return range(4 * number + 1, size, 4 * SHARED_SOUNDS)


def parse_sound_id(sound_id: str) -> tuple[str, int] | None:
    """``("shared", n)`` or ``("original", item index)`` for an id the corpus hands out."""
    if not sound_id.isdigit():
        return None
    value = int(sound_id)
    offset = value - SHARED_BASE
    if 0 <= offset < SHARED_SOUNDS * SHARED_STEP and offset % SHARED_STEP == 0:
        return "shared", offset // SHARED_STEP
    if value >= ORIGINAL_BASE:
        return "original", value - ORIGINAL_BASE
    return None
