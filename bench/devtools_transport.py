"""What a feed answer costs to cross from the page to Python, as TikTok sent it and as ``PAGE_FETCH``
returns it (``ESCAPE_NON_ASCII``: every non-ASCII character a JSON ``\\uXXXX`` escape, the same value).

    .venv/bin/python -m bench.devtools_transport --runs 60

One emulator, one session (the service's own client), one real ``recommend`` answer for count=35
fetched once in the page; then ``page.evaluate`` returning that body, raw and escaped, in alternation,
``--runs`` times each after 5 warm-up ones; and ``page.evaluate("() => 1")`` for the round trip alone.
Prints the medians (ms) and the body's length and non-ASCII characters.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import replace
from typing import Any

from bench.crawl_latency import summary
from harness.emulator import EmulatorProcess
from settings.env import load_config
from tiktok_spiders.client import ClientOptions, TikTokClient
from tiktok_spiders.client.session import ESCAPE_NON_ASCII
from tiktok_spiders.client.web_params import build_api_url
from tiktok_spiders.spiders.trending import RECOMMEND

STORE_BODY = """async ([url]) => {
  const signature = window.byted_acrawler.frontierSign(url)["X-Bogus"];
  const answer = await fetch(url + "&X-Bogus=" + encodeURIComponent(signature), {credentials: "include"});
  window.benchRaw = await answer.text();
  return window.benchRaw;
}"""


async def measure(base_url: str, runs: int) -> dict[str, Any]:
    config = replace(load_config(), tiktok_base_url=base_url)
    client = TikTokClient.shared(ClientOptions.from_config(config))
    try:
        session = await client.sessions.get()
        url = build_api_url(base_url, RECOMMEND, {"from_page": "fyp", "count": 35}, session.fields)
        raw: str = await session.page.evaluate(STORE_BODY, [url])
        # The escaping PAGE_FETCH applies, in the page.
        escaped: str = await session.page.evaluate(
            f"() => {{ window.benchEscaped = ({ESCAPE_NON_ASCII})(window.benchRaw); return window.benchEscaped; }}"
        )
        assert escaped.isascii() and json.loads(escaped) == json.loads(raw)
        expressions = {
            "round trip only": "() => 1",
            "body as sent": "() => window.benchRaw",
            "body escaped (ASCII)": "() => window.benchEscaped",
        }
        samples: dict[str, list[float]] = {name: [] for name in expressions}
        for number in range(5 + runs):
            for name, expression in expressions.items():
                started = time.perf_counter()
                await session.page.evaluate(expression)
                if number >= 5:
                    samples[name].append(time.perf_counter() - started)
        return {
            "body_chars": len(raw),
            "non_ascii_chars": sum(1 for char in raw if ord(char) > 127),
            "escaped_chars": len(escaped),
            **{name: summary(values) for name, values in samples.items()},
        }
    finally:
        await TikTokClient.close_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="samples of each (default 60)")
    runs = parser.parse_args().runs
    emulator = EmulatorProcess()
    try:
        result = asyncio.run(measure(emulator.base_url, runs))
    finally:
        emulator.stop()
    print(
        f"body: {result['body_chars']} characters, {result['non_ascii_chars']} non-ASCII; "
        f"escaped: {result['escaped_chars']}"
    )
    for name in ("round trip only", "body as sent", "body escaped (ASCII)"):
        figures = result[name]
        print(
            f"{name:22s} p50 {figures['median_ms']:6.2f} ms  p95 {figures['p95_ms']:6.2f} ms  (n={figures['n']})"
        )


if __name__ == "__main__":
    main()
