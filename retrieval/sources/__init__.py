"""Sources: where articles come from.

Article files in the seed format and JSONL dumps (``files``), HTML pages (``pages``, with
the outlet named by ``outlets``), URLs fetched with a deadline and a size limit (``fetch``)
from public addresses only (``network``, ``addresses``), RSS and Atom feeds (``feeds``), the
list of feeds to follow (``feedlist``) and the outcome of each feed's last read
(``feedpolls``). ``reading`` turns any one source a user names into articles or one specific
problem, within the ``limits`` of one source.
"""

from retrieval.sources.feedlist import FEEDS_FILE, FileFeeds, add_feeds, load_feeds, remove_feeds
from retrieval.sources.feedpolls import POLLS_FILE, FeedPoll, load_polls, poll_of, record_polls
from retrieval.sources.fetch import USER_AGENT, Fetcher
from retrieval.sources.files import load_articles, read_text_article, repair_paragraphs
from retrieval.sources.limits import DEFAULT_LIMITS, SourceLimits
from retrieval.sources.reading import ItemCallback, SourceProblem, SourceResult, read_source
from retrieval.urls import redacted

__all__ = [
    "DEFAULT_LIMITS",
    "FEEDS_FILE",
    "POLLS_FILE",
    "USER_AGENT",
    "FeedPoll",
    "Fetcher",
    "FileFeeds",
    "ItemCallback",
    "SourceLimits",
    "SourceProblem",
    "SourceResult",
    "add_feeds",
    "load_articles",
    "load_feeds",
    "load_polls",
    "poll_of",
    "read_source",
    "read_text_article",
    "record_polls",
    "redacted",
    "remove_feeds",
    "repair_paragraphs",
]
