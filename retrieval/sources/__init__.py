"""Sources: where articles come from.

Article files in the seed format and JSONL dumps (``files``), HTML pages (``pages``, with
the outlet named by ``outlets``), URLs fetched with a deadline and a size limit (``fetch``),
RSS and Atom feeds (``feeds``) and the list of feeds to follow (``feedlist``). ``reading``
turns any one source a user names into articles or one specific problem.
"""

from retrieval.sources.feedlist import FEEDS_FILE, add_feeds, load_feeds, remove_feeds
from retrieval.sources.fetch import USER_AGENT, Fetcher, redacted
from retrieval.sources.files import load_articles, read_text_article, repair_paragraphs
from retrieval.sources.reading import SourceProblem, SourceResult, read_source

__all__ = [
    "FEEDS_FILE",
    "USER_AGENT",
    "Fetcher",
    "SourceProblem",
    "SourceResult",
    "add_feeds",
    "load_articles",
    "load_feeds",
    "read_source",
    "read_text_article",
    "redacted",
    "remove_feeds",
    "repair_paragraphs",
]
