"""The request signature that the page script's ``frontierSign`` computes, in Python and in JS.

The signature is a keyed 64-bit FNV-1a hash over ``secret + "\\n" + canonical(url)``. The canonical
form is the percent-decoded path, then every decoded query pair except the signatures themselves,
sorted by key (stable, so repeated keys keep their order). Decoding first means that Python's
``urlencode`` and the browser's ``URL`` class, which encode differently, sign the same thing; binding
every parameter means that changing any of them invalidates the signature.

The same function, keyed with a second secret, yields ``X-Gnarly``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

UNSIGNED_PARAMS = frozenset({"X-Bogus", "X-Gnarly"})

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = (1 << 64) - 1


def fnv1a64(data: bytes) -> int:
    h = _FNV_OFFSET
    for byte in data:
        h ^= byte
        h = (h * _FNV_PRIME) & _MASK
    return h


def canonical(url: str) -> str:
    parts = urlsplit(url)
    pairs = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in UNSIGNED_PARAMS
    ]
    pairs.sort(key=lambda pair: pair[0])
    return unquote(parts.path) + "?" + "&".join(f"{key}={value}" for key, value in pairs)


def sign(secret: str, url: str) -> str:
    """The signature of ``url`` (absolute, or just path and query) under ``secret``: 16 hex digits."""
    return format(fnv1a64((secret + "\n" + canonical(url)).encode("utf-8")), "016x")


# The browser's half of the contract; kept beside the Python so the two cannot drift apart unseen.
# Placed inside the page's private closure by pages.py.
JS_SIGNING = r"""
  var FNV_OFFSET = 0xcbf29ce484222325n, FNV_PRIME = 0x100000001b3n, MASK = 0xffffffffffffffffn;
  function fnv1a64(text) {
    var bytes = new TextEncoder().encode(text), h = FNV_OFFSET;
    for (var i = 0; i < bytes.length; i++) {
      h ^= BigInt(bytes[i]);
      h = (h * FNV_PRIME) & MASK;
    }
    return h.toString(16).padStart(16, "0");
  }
  function canonical(url) {
    var u = new URL(url, location.href), pairs = [];
    u.searchParams.forEach(function (value, key) {
      if (key !== "X-Bogus" && key !== "X-Gnarly") pairs.push([key, value]);
    });
    pairs.sort(function (a, b) { return a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : 0); });
    return decodeURIComponent(u.pathname) + "?" +
      pairs.map(function (p) { return p[0] + "=" + p[1]; }).join("&");
  }
  function keyedSign(secret, url) { return fnv1a64(secret + "\n" + canonical(String(url))); }
"""
