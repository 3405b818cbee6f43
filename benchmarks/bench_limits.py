"""Reading oversized pages with the article limits against reading them whole.

Two pages like those that took minutes and gigabytes to add: many short paragraphs, and
one endless sentence. Each is read as `newsbot add` reads a page (trafilatura extraction,
paragraph repair, the article limits) and cut into passages (word-count tokens, so the
figure is the work handed to the model, not the model's speed). The baseline is the same
page read without limits, in the same run.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence

from retrieval.chunking import ChunkSettings, chunk_article
from retrieval.sources import DEFAULT_LIMITS, SourceLimits
from retrieval.sources.limits import cut_article
from retrieval.sources.pages import article_from_html

URL = "https://example-news.com/minutes"
UNLIMITED = SourceLimits(feed_items=1, paragraphs=10**9, characters=10**12)


def page(paragraphs: Sequence[str]) -> bytes:
    """An article page holding ``paragraphs``."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<!DOCTYPE html><html><head><title>Harbour Board Minutes</title>"
        '<meta property="article:published_time" content="2024-05-02">'
        f"</head><body><article><h1>Harbour Board Minutes</h1>{body}</article></body></html>"
    ).encode()


def read(html: bytes, limits: SourceLimits) -> tuple[float, int, int]:
    """Seconds to read and chunk the page, its paragraphs and its passages."""
    started = time.perf_counter()
    limited = limits is not UNLIMITED
    article = article_from_html(
        html, URL, max_paragraphs=2 * limits.paragraphs if limited else None
    )
    article = cut_article(article, limits)
    passages = chunk_article(article, ChunkSettings())
    return time.perf_counter() - started, len(article.paragraphs), len(passages)


def main(argv: Sequence[str] | None = None) -> None:
    """Print one row per page and path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=60_000)
    parser.add_argument("--sentence-bytes", type=int, default=2_000_000)
    args = parser.parse_args(argv)
    words = "and the board met again "
    pages = {
        f"{args.paragraphs:,} paragraphs": page(
            [f"The harbour board met on Tuesday, item {n}." for n in range(args.paragraphs)]
        ),
        "one-sentence paragraph": page(
            ["The board met. Then " + words * (args.sentence_bytes // len(words)) + "."]
        ),
    }
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| page | bytes | path | seconds | paragraphs | passages | time vs whole |")
    print("|---|---|---|---|---|---|---|")
    for name, html in pages.items():
        whole = read(html, UNLIMITED)
        cut = read(html, DEFAULT_LIMITS)
        for label, (seconds, paragraphs, passages) in (("whole", whole), ("limits", cut)):
            print(f"| {name} | {len(html):,} | {label} | {seconds:.2f} | {paragraphs:,} | "
                  f"{passages:,} | {seconds / whole[0]:.3f}x |")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
