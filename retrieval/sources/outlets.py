"""Outlet names from article URLs: the site a story was published on."""

from __future__ import annotations

from urllib.parse import urlsplit

# Sites whose display name is not derivable from the domain.
KNOWN_OUTLETS = {
    "themoscowtimes.com": "The Moscow Times",
    "reuters.com": "Reuters",
    "apnews.com": "AP News",
    "bbc.com": "BBC",
    "bbc.co.uk": "BBC",
    "nytimes.com": "The New York Times",
    "washingtonpost.com": "The Washington Post",
    "theguardian.com": "The Guardian",
    "wsj.com": "The Wall Street Journal",
    "ft.com": "Financial Times",
    "aljazeera.com": "Al Jazeera",
    "cnn.com": "CNN",
    "npr.org": "NPR",
    "bloomberg.com": "Bloomberg",
    "economist.com": "The Economist",
    "france24.com": "France 24",
    "dw.com": "DW",
    "politico.com": "Politico",
    "politico.eu": "Politico Europe",
    "euronews.com": "Euronews",
    "kyivindependent.com": "The Kyiv Independent",
    "koreaherald.com": "The Korea Herald",
    "koreatimes.co.kr": "The Korea Times",
    "nknews.org": "NK News",
    "scmp.com": "South China Morning Post",
    "japantimes.co.jp": "The Japan Times",
    "tass.com": "TASS",
    "meduza.io": "Meduza",
    "afp.com": "AFP",
}


def site_of(url: str) -> str:
    """The registered site of a URL, without 'www.' ('themoscowtimes.com')."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    return host


def outlet_from_url(url: str) -> str:
    """The outlet's display name for a URL, or its site when the outlet is unknown."""
    host = site_of(url)
    parts = host.split(".")
    for start in range(len(parts) - 1):
        candidate = ".".join(parts[start:])
        if candidate in KNOWN_OUTLETS:
            return KNOWN_OUTLETS[candidate]
    return host
