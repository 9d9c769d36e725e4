"""The deterministic corpus: hashtags, their feeds, the trending pool and TikTok-shaped items.

Everything derives from the seed. Only item kinds and feed orders are computed at start (a few
milliseconds); an item's full ``itemStruct`` is built when served, because its URLs depend on the
request's host and the current time.

Guarantees (the README repeats them): a trending page of ``count`` N has N distinct items, at most
``N // 10`` of them unplayable (ad, photo post, live, no play address) and up to 2 repeated from the
session's previous page; hashtag feeds repeat an earlier item about every 37 positions, so pages
overlap; items take every shape variant of the captures in ``shared/fixtures/tiktok/``.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from emulator import sounds
from emulator.creators import (
    PRIVATE_ACCOUNTS,
    PUBLIC_ACCOUNTS,
    Creator,
    author_number,
    make_creator,
    round_count,
)

# (title, feed length). A few are short so ``hasMore`` turns false within a page or two.
HASHTAGS: tuple[tuple[str, int], ...] = (
    ("food", 2400),
    ("funny", 1800),
    ("cats", 1500),
    ("fyp", 1200),
    ("美食", 900),
    ("dance", 800),
    ("travel", 600),
    ("cooking", 500),
    ("comedy", 500),
    ("pets", 450),
    ("музыка", 400),
    ("fitness", 400),
    ("kpop", 400),
    ("猫", 350),
    ("anime", 350),
    ("طبخ", 300),
    ("asmr", 300),
    ("recipe", 300),
    ("football", 300),
    ("diy", 250),
    ("booktok", 250),
    ("learnontiktok", 200),
    ("ramen", 120),
    ("한식", 60),
    ("café", 45),
    ("tinyhouse", 25),
    ("origami", 7),
)
PRIVATE_ITEMS = 20
TRENDING_REPEATS = 2
DUPLICATE_EVERY = 37


class Kind(Enum):
    VIDEO = "video"
    AD = "ad"
    PHOTO = "photo"
    LIVE = "live"
    NO_PLAY_ADDR = "no_play_addr"

    @property
    def playable(self) -> bool:
        return self is Kind.VIDEO


def normalise_hashtag(name: str) -> str:
    """TikTok matches hashtags case-insensitively, and browsers may send NFD forms of ``café``."""
    return unicodedata.normalize("NFC", name.strip().lstrip("#")).casefold()


def normalise_text(text: str) -> str:
    """Search matching: NFC, case-insensitive, whitespace folded."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


@dataclass(frozen=True)
class Hashtag:
    id: str
    title: str
    feed: tuple[int, ...]  # item indices, in feed order, with repeats
    view_count: int


class Urls:
    """Builds the emulator's own CDN and image URLs for one request (host and expiry)."""

    def __init__(self, base: str, expire: int) -> None:
        self.base = base
        self.expire = expire

    def video(self, item_id: str, bitrate: int, variant: str = "play") -> str:
        return (
            f"{self.base}/video/tos/{item_id}.mp4?a=1988&br={bitrate // 1000}&bt={bitrate // 2000}"
            f"&cd=0%7C0%7C0%7C&ch=0&cr=3&dr=0&lr=all&cv=1&mime_type=video_mp4&qs=0"
            f"&rc={variant}&expire={self.expire}&l=2026{item_id[-8:]}&ply_type=2&policy=2"
            f"&tk=tt_chain_token"
        )

    def image(self, kind: str, key: str, size: str = "720x720") -> str:
        return f"{self.base}/img/{kind}/{key}~c5_{size}.jpeg?x-expires={self.expire}&x-signature=x"


#: how many nicknames the item generator draws among (the draw is kept so later draws stay put)
_NICKNAME_DRAWS = 12
_DESCS = (
    "Best {tag} in town 😋",
    "当你第一次尝试{tag} 🤯 太好吃了",
    "ما أجمل هذا {tag} 🔥",
    "Это просто огонь 🔥 {tag}",
    "레시피 공유합니다 ✨ {tag}",
    "POV: you found the perfect {tag} 👀",
    "שבת שלום 🌙 {tag}",
    "family 👨‍👩‍👧‍👦 weekend {tag}",
    "t̷e̷x̷t̷ glitch {tag} 🫠",
    "🇯🇵🍣🍜 {tag}",
    "RTL mix: مرحبا world {tag}",
    "café au lait ☕ {tag}",
    "刷到這個影片 硬拖我妹來拍🫶🏻📷 {tag}",
)
_EXTRA_TAGS = ("fyp", "foryou", "viral", "foryoupage", "trending", "xyzbca")
#: what a video is about, in its caption after the template, so free-text search finds things
#: (``pasta``, ``kitten``, ``拉面``). Picked by item index, not drawn: the seeded draws stay as they were.
_TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "food": ("pasta", "pizza", "tacos", "sushi", "burger", "street food"),
    "cooking": ("pasta", "garlic bread", "omelette", "curry"),
    "recipe": ("pasta carbonara", "banana bread", "pancakes", "pesto pasta"),
    "美食": ("拉面", "饺子", "火锅", "pasta"),
    "ramen": ("tonkotsu", "miso", "ramen noodles"),
    "طبخ": ("كبسة", "فلافل", "pasta"),
    "한식": ("김치", "비빔밥"),
    "café": ("latte", "croissant"),
    "cats": ("kitten", "zoomies", "cat nap"),
    "猫": ("子猫", "kitten"),
    "pets": ("puppy", "kitten", "parrot"),
    "dance": ("choreo", "tutorial"),
    "travel": ("Lisbon", "Kyoto", "road trip"),
    "fitness": ("leg day", "tutorial"),
    "музыка": ("гитара", "cover"),
    "origami": ("paper crane", "tutorial"),
}


class Corpus:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        rng = random.Random(seed)
        self.hashtags: list[Hashtag] = []
        self._by_name: dict[str, Hashtag] = {}
        self._by_id: dict[str, Hashtag] = {}
        self._primary: list[int] = []  # item index -> index into self.hashtags
        for tag_no, (title, size) in enumerate(HASHTAGS):
            start = len(self._primary)
            self._primary.extend([tag_no] * size)
            feed = list(range(start, start + size))
            rng.shuffle(feed)
            with_repeats: list[int] = []
            for position, index in enumerate(feed):
                with_repeats.append(index)
                if position % DUPLICATE_EVERY == DUPLICATE_EVERY - 1:
                    with_repeats.append(feed[position - rng.randint(5, 30)])
            tag = Hashtag(
                id=str(rng.randint(10**6, 10**8) if size > 300 else rng.randint(10**17, 10**18)),
                title=title,
                feed=tuple(with_repeats),
                view_count=size * rng.randint(50_000, 5_000_000),
            )
            self.hashtags.append(tag)
            self._by_name[normalise_hashtag(title)] = tag
            self._by_id[tag.id] = tag
        self.feed_items = len(self._primary)
        self.size = self.feed_items + PRIVATE_ITEMS
        self.kinds = [self._draw_kind(rng) for _ in range(self.feed_items)]
        self.kinds.extend([Kind.VIDEO] * PRIVATE_ITEMS)
        self.playable = [i for i in range(self.feed_items) if self.kinds[i].playable]
        self.unplayable = [i for i in range(self.feed_items) if not self.kinds[i].playable]
        self._id_base = 7_300_000_000_000_000_000 + (seed % 1000) * 10**12
        self._search_texts: list[str] | None = None
        self._posts_of: dict[int, list[int]] = {n: [] for n in range(PUBLIC_ACCOUNTS + PRIVATE_ACCOUNTS)}
        for index in range(self.size):
            self._posts_of[author_number(index, self.feed_items, seed)].append(index)
        self.creators = [make_creator(n, len(posts), seed) for n, posts in self._posts_of.items()]
        self._by_unique_id = {c.unique_id.casefold(): c for c in self.creators}
        self._by_sec_uid = {c.sec_uid: c for c in self.creators}

    @staticmethod
    def _draw_kind(rng: random.Random) -> Kind:
        r = rng.random()
        if r < 0.03:
            return Kind.AD
        if r < 0.075:
            return Kind.PHOTO
        if r < 0.085:
            return Kind.LIVE
        if r < 0.10:
            return Kind.NO_PLAY_ADDR
        return Kind.VIDEO

    # --- lookups -------------------------------------------------------------------------------

    def hashtag(self, name: str) -> Hashtag | None:
        return self._by_name.get(normalise_hashtag(name))

    def hashtag_by_id(self, challenge_id: str) -> Hashtag | None:
        return self._by_id.get(challenge_id)

    def item_id(self, index: int) -> str:
        return str(self._id_base + index * 104_729)

    def index_of(self, item_id: str) -> int | None:
        if not item_id.isdigit():
            return None
        offset = int(item_id) - self._id_base
        index, rest = divmod(offset, 104_729)
        if rest or not 0 <= index < self.size:
            return None
        return index

    def is_private(self, index: int) -> bool:
        return index >= self.feed_items

    def private_item_ids(self) -> list[str]:
        return [self.item_id(i) for i in range(self.feed_items, self.size)]

    def primary_hashtag(self, index: int) -> Hashtag | None:
        return self.hashtags[self._primary[index]] if index < self.feed_items else None

    # --- creators ------------------------------------------------------------------------------

    def creator_of(self, index: int) -> Creator:
        return self.creators[author_number(index, self.feed_items, self.seed)]

    def creator(self, unique_id: str = "", sec_uid: str = "") -> Creator | None:
        """By ``uniqueId`` (case-insensitive, with or without ``@``), else by ``secUid``."""
        if unique_id.strip():
            return self._by_unique_id.get(unique_id.strip().lstrip("@").casefold())
        return self._by_sec_uid.get(sec_uid.strip())

    @lru_cache(maxsize=16_384)  # noqa: B019 - one corpus per process; more entries than it has items
    def post_time_ms(self, index: int) -> int:
        """When item ``index`` was posted, in ms: the posts feed's cursor (distinct per item)."""
        return int(self.item(index, Urls("", 0))["createTime"]) * 1000 + index % 1000

    @lru_cache(maxsize=64)  # noqa: B019 - one corpus per process; paging repeats the same creator
    def posts(self, number: int, order: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """A creator's (pinned, the rest) item indices: the rest newest first (``order`` 0), most
        played first (1) or oldest first (2). Pinned posts are their first ones in corpus order."""
        creator = self.creators[number]
        indices = self._posts_of[number]
        pinned = tuple(indices[: creator.pinned])
        rest = indices[creator.pinned :]
        if order == 1:
            rest = sorted(rest, key=lambda i: (-self.play_count(i), i))
        else:
            rest = sorted(rest, key=self.post_time_ms, reverse=order == 0)
        return pinned, tuple(rest)

    def play_count(self, index: int) -> int:
        item = self.item(index, Urls("", 0))
        stats = item.get("statsV2") or item.get("stats") or {}
        return int(stats.get("playCount", 0))

    # --- sounds --------------------------------------------------------------------------------

    @lru_cache(maxsize=256)  # noqa: B019 - one corpus per process; paging repeats the same sound
    def sound_items(self, sound_id: str) -> tuple[int, ...] | None:
        """The items that use a sound, in corpus order, or None for an id the corpus never gave."""
        parsed = sounds.parse_sound_id(sound_id)
        if parsed is None:
            return None
        kind, number = parsed
        if kind == "shared":
            candidates: range | tuple[int, ...] = sounds.items_of_shared(number, self.feed_items)
        elif number < self.feed_items and sounds.shared_sound_of(number) is None:
            candidates = (number,)
        else:
            return None
        urls = Urls("", 0)
        found = tuple(i for i in candidates if self.item(i, urls).get("music", {}).get("id") == sound_id)
        return found or None

    # --- related -------------------------------------------------------------------------------

    def related(self, index: int, count: int) -> list[int]:
        """Up to ``count`` distinct items shown beside item ``index``: those that follow it in its
        hashtag's feed, wrapping round; deterministic, so every call gives the same page."""
        tag = self.primary_hashtag(index)
        if tag is None:
            return []
        start = tag.feed.index(index)
        chosen: list[int] = []
        for step in range(1, len(tag.feed)):
            candidate = tag.feed[(start + step) % len(tag.feed)]
            if candidate != index and candidate not in chosen:
                chosen.append(candidate)
                if len(chosen) == count:
                    break
        return chosen

    # --- feeds ---------------------------------------------------------------------------------

    def trending_page(self, session_key: str, call_no: int, previous: list[int], count: int) -> list[int]:
        rng = random.Random(f"{self.seed}:{session_key}:{call_no}")
        bad = count // 10
        repeats = min(TRENDING_REPEATS, len(previous), count - bad) if call_no > 0 else 0
        chosen: list[int] = []
        seen: set[int] = set()

        def take(pool: list[int], n: int) -> None:
            # Bounded: pools hold thousands of items and n is at most a few dozen.
            for _ in range(n * 20):
                if n <= 0:
                    return
                index = pool[rng.randrange(len(pool))]
                if index not in seen:
                    seen.add(index)
                    chosen.append(index)
                    n -= 1

        take([i for i in previous if self.kinds[i].playable] or self.playable, repeats)
        take(self.unplayable, bad)
        take(self.playable, count - len(chosen))
        rng.shuffle(chosen)
        return chosen

    # --- search --------------------------------------------------------------------------------

    def search(self, query: str) -> tuple[int, ...]:
        """Feed items matching free text, best first: see ``rank``. Private items never match."""
        return self._ranked(normalise_text(query))

    @lru_cache(maxsize=128)  # noqa: B019 - one corpus per process; paging repeats the same query
    def _ranked(self, query: str) -> tuple[int, ...]:
        words = list(dict.fromkeys(query.split()))
        if not words:
            return ()
        scored = []
        for index, text in enumerate(self.search_texts()):
            matched = sum(word in text for word in words)
            if matched:
                scored.append((-(matched + (len(words) > 1 and query in text)), index))
        scored.sort()
        return tuple(index for _score, index in scored)

    @lru_cache(maxsize=128)  # noqa: B019 - one corpus per process; paging repeats the same query
    def search_authors(self, query: str) -> tuple[int, ...]:
        """User search: for each distinct author among ``search(query)``'s items, best first, the index
        of that author's first matching item (whose ``author`` and ``authorStats`` describe them)."""
        seen: set[str] = set()
        firsts = []
        for index in self.search(query):
            author_id = self.creator_of(index).id
            if author_id not in seen:
                seen.add(author_id)
                firsts.append(index)
        return tuple(firsts)

    def search_texts(self) -> list[str]:
        """What search matches: each feed item's caption, author nickname and handle, normalised.

        Built on the first search (under a second for the whole corpus), from the served items.
        """
        if self._search_texts is None:
            urls = Urls("", 0)
            texts = []
            for index in range(self.feed_items):
                item = self.item(index, urls)
                author = item["author"]
                texts.append(
                    normalise_text(f"{item['desc']} {author.get('nickname', '')} {author['uniqueId']}")
                )
            self._search_texts = texts
        return self._search_texts

    # --- items ---------------------------------------------------------------------------------

    def item(self, index: int, urls: Urls) -> dict[str, Any]:
        """TikTok's ``itemStruct`` for item ``index``, with one of the captured shape variants."""
        rng = random.Random(self.seed * 1_000_003 + index)
        kind = self.kinds[index]
        item_id = self.item_id(index)
        primary = self.primary_hashtag(index)
        tags = [primary.title] if primary else []
        for _ in range(rng.randint(0, 2)):
            extra = rng.choice((*_EXTRA_TAGS, self.hashtags[rng.randrange(len(self.hashtags))].title))
            if extra not in tags:
                tags.append(extra)
        author = self._author(rng, index, urls)
        text = rng.choice(_DESCS).format(tag=tags[0] if tags else "")
        topic = _TOPIC_WORDS.get(primary.title, ()) if primary else ()
        if topic:
            text = f"{text} {topic[index % len(topic)]}"
        desc = (text + " " + " ".join("#" + t for t in tags) + " ").strip() + " "
        text_extra = self._text_extra(desc, tags)

        item: dict[str, Any] = {
            "id": item_id,
            "desc": desc,
            "createTime": 1_767_225_600 + rng.randint(0, 320 * 86_400),
            "author": author,
            "AIGCDescription": "",
            "CategoryType": rng.choice((100, 101, 102, 103, 104)),
            "isAd": kind is Kind.AD,
            "privateItem": False,
            "secret": False,
            "duetEnabled": True,
            "stitchEnabled": True,
            "shareEnabled": True,
            "digged": False,
            "collected": False,
            "itemCommentStatus": 0,
            "officalItem": False,
            "originalItem": False,
            "forFriend": False,
            "textLanguage": "un",
        }
        if rng.random() < 0.3:
            item["createTime"] = str(item["createTime"])  # as in universal_data_video_detail
        item.update(self._stats(rng))
        if rng.random() < 0.95:
            original_title = rng.choice(("original sound", "原聲", "som original", "الصوت الأصلي"))
            item["music"] = self._music(index, original_title, author, urls)
        if rng.random() < 0.9:
            for low, high in ((0, 9_000_000), (0, 90_000_000), (1, 3000)):
                rng.randint(low, high)  # the draws of the old random authorStats, so later draws stay put
            creator = self.creator_of(index)
            item["authorStats"] = creator.stats()
            item["authorStatsV2"] = creator.stats_v2()

        # Hashtags in one of the three places parsers must look.
        where = rng.random()
        if where < 0.5:
            item["challenges"] = [self._challenge(t) for t in tags]
            item["textExtra"] = text_extra
        elif where < 0.75:
            item["textExtra"] = text_extra
        else:
            item["contents"] = [{"desc": desc, "textExtra": text_extra}]

        if kind is Kind.LIVE:
            item.pop("music", None)
            item["desc"] = "LIVE 🔴 " + desc
            item["liveRoomInfo"] = {
                "roomID": str(7_200_000_000_000_000_000 + index),
                "status": 2,
                "title": text,
                "coverUrl": urls.image("live", item_id),
                "userCount": rng.randint(10, 90_000),
            }
            return item
        item["video"] = self._video(rng, kind, item_id, urls)
        if kind is Kind.AD:
            item["adAuthorization"] = True
            item["adLabelVersion"] = 2
            item["isAdVirtual"] = False
        if kind is Kind.PHOTO:
            item["imagePost"] = {
                "images": [
                    {
                        "imageURL": {"urlList": [urls.image("photo", f"{item_id}_{n}", "1080x1440")]},
                        "imageWidth": 1080,
                        "imageHeight": 1440,
                    }
                    for n in range(rng.randint(2, 6))
                ],
                "cover": {"imageURL": {"urlList": [urls.image("photo", item_id, "1080x1440")]}},
                "title": "",
            }
        if kind is Kind.VIDEO and rng.random() < 0.06:
            item["desc"] = ""  # items with no caption at all exist
        return item

    def _author(self, rng: random.Random, index: int, urls: Urls) -> dict[str, Any]:
        # The item generator once drew its author here; the draws are kept so every later one
        # (captions, stats, shapes) stays as it was, and the author now comes from creators.py.
        rng.randrange(500)
        rng.randrange(_NICKNAME_DRAWS)
        rng.random()
        return self.creator_of(index).author(urls.image)

    def _music(self, index: int, original_title: str, author: dict[str, Any], urls: Urls) -> dict[str, Any]:
        shared = sounds.shared_sound_of(index)
        if shared is None:
            return {
                "id": str(sounds.ORIGINAL_BASE + index),
                "title": original_title,
                "authorName": author.get("nickname", author["uniqueId"]),
                "original": True,
                "duration": 15,
                "coverThumb": urls.image("music", self.item_id(index), "100x100"),
            }
        return {
            "id": shared.id,
            "title": shared.title,
            "authorName": shared.artist,
            "original": False,
            "duration": shared.duration,
            "coverThumb": urls.image("music", shared.id, "100x100"),
        }

    def _tag_id(self, title: str) -> str:
        known = self.hashtag(title)
        return known.id if known else str(hash_title(title))

    def _challenge(self, title: str) -> dict[str, Any]:
        return {
            "id": self._tag_id(title),
            "title": title,
            "desc": "",
            "profileThumb": "",
            "coverThumb": "",
            "isCommerce": False,
        }

    def _text_extra(self, desc: str, tags: list[str]) -> list[dict[str, Any]]:
        extras: list[dict[str, Any]] = []
        for title in tags:
            start = desc.find("#" + title)
            extras.append(
                {
                    "awemeId": "",
                    "start": start,
                    "end": start + 1 + len(title),
                    "hashtagId": self._tag_id(title),
                    "hashtagName": title,
                    "isCommerce": False,
                    "subType": 0,
                    "type": 1,
                }
            )
        return extras

    @staticmethod
    def _stats(rng: random.Random) -> dict[str, Any]:
        plays = int(rng.lognormvariate(12, 2.2))
        exact = {
            "diggCount": int(plays * rng.uniform(0.01, 0.15)),
            "shareCount": int(plays * rng.uniform(0.0001, 0.01)),
            "commentCount": int(plays * rng.uniform(0.0005, 0.01)),
            "playCount": plays,
            "collectCount": int(plays * rng.uniform(0.001, 0.03)),
        }
        rounded: dict[str, Any] = {k: round_count(v) for k, v in exact.items()}
        as_strings = {k: str(v) for k, v in exact.items()} | {"repostCount": "0"}
        variant = rng.random()
        if variant < 0.7:
            if rng.random() < 0.3:
                rounded["collectCount"] = str(rounded["collectCount"])
            return {"stats": rounded, "statsV2": as_strings}
        if variant < 0.9:
            return {"stats": rounded}  # the 2022 captures: rounded counts only
        return {"statsV2": as_strings}

    @staticmethod
    def _video(rng: random.Random, kind: Kind, item_id: str, urls: Urls) -> dict[str, Any]:
        tall = rng.random() < 0.7
        bitrate = rng.randint(400_000, 1_600_000)
        video: dict[str, Any] = {
            "id": item_id,
            "height": 1280 if tall else 1024,
            "width": 720 if tall else 576,
            "duration": rng.randint(5, 180),
            "ratio": "720p" if tall else "540p",
            "cover": urls.image("cover", item_id),
            "originCover": urls.image("cover", item_id + "o"),
            "dynamicCover": urls.image("cover", item_id + "d"),
            "shareCover": [""],
            "reflowCover": "",
            "bitrate": bitrate,
            "encodedType": "normal",
            "format": "mp4",
            "videoQuality": "normal",
            "encodeUserTag": "",
            "codecType": "h264",
            "definition": "720p" if tall else "540p",
            "subtitleInfos": [],
        }
        if kind is Kind.PHOTO:
            # Photo posts carry a video object with empty play addresses.
            video.update(playAddr="", downloadAddr="", duration=0)
            return video
        if kind is Kind.NO_PLAY_ADDR:
            return video
        bitrate_info = [
            {
                "Bitrate": bitrate,
                "CodecType": "h264",
                "GearName": "normal_720_0" if tall else "normal_540_0",
                "QualityType": 10,
                "PlayAddr": {
                    "DataSize": 18136,
                    "Uri": "v0f025gc0000" + item_id[-12:],
                    "UrlKey": f"v0f025gc0000{item_id[-12:]}_h264_720p_{bitrate}",
                    "UrlList": [urls.video(item_id, bitrate, "b0"), urls.video(item_id, bitrate, "b1")],
                },
            }
        ]
        where = rng.random()
        if where < 0.6:
            video["playAddr"] = urls.video(item_id, bitrate)
            video["downloadAddr"] = urls.video(item_id, bitrate, "dl")
            video["bitrateInfo"] = bitrate_info
        elif where < 0.85:
            video["bitrateInfo"] = bitrate_info
        else:
            video["downloadAddr"] = urls.video(item_id, bitrate, "dl")
        if rng.random() < 0.05:
            del video["cover"]
        return video


def hash_title(title: str) -> int:
    """A stable id for hashtags that are only mentioned, not corpus feeds (str hash is salted)."""
    h = 0
    for ch in normalise_hashtag(title):
        h = (h * 131 + ord(ch)) % 10**15
    return h + 10**15
