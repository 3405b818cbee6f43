"""Sources: where articles come from.

Article files in the seed format and JSONL dumps (``files``), HTML pages (``pages``, with
the outlet named by ``outlets``), URLs fetched with a deadline and a size limit (``fetch``)
from public addresses only (``network``, ``addresses``), RSS and Atom feeds (``feeds``) and
the list of feeds to follow (``feedlist``). ``reading`` turns any one source a user names
into articles or one specific problem, within the ``limits`` of one source.
"""

from retrieval.sources.feedlist import FEEDS_FILE, FileFeeds, add_feeds, load_feeds, remove_feeds
from retrieval.sources.fetch import USER_AGENT, Fetcher
from retrieval.sources.files import load_articles, read_text_article, repair_paragraphs
from retrieval.sources.limits import DEFAULT_LIMITS, SourceLimits
from retrieval.sources.reading import SourceProblem, SourceResult, read_source
from retrieval.urls import redacted

__all__ = [
    "DEFAULT_LIMITS",
    "FEEDS_FILE",
    "USER_AGENT",
    "Fetcher",
    "FileFeeds",
    "SourceLimits",
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
