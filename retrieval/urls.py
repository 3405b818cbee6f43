"""Article identity: canonical URLs without tracking noise, and hashes of story text."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from retrieval.articles import Article

# Query parameters that only say how a reader arrived, never which article it is.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "cmpid", "cmp", "ocid", "smid", "smtyp",
        "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "s_cid", "at_medium", "at_campaign",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
DEFAULT_PORTS = {"http": 80, "https": 443}
_SPACE = re.compile(r"\s+")


def canonical_url(url: str) -> str:
    """The URL that identifies an article: tracking parameters, fragment and credentials gone.

    Scheme and host are lower-cased, a default port and an empty path are normalised, and
    the remaining query parameters keep their order and their original encoding. Raises
    ValueError for a URL that does not parse (an unclosed IPv6 bracket).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a non-numeric port: leave the URL's authority as it was
        host, port = parts.netloc.lower().rpartition("@")[2], None
    # Credentials are dropped: they do not identify the article and must not be stored.
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = parts.path or "/"
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and not _is_tracking(pair.split("=")[0])
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def _is_tracking(key: str) -> bool:
    name = unquote_plus(key).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def content_hash(article: Article) -> str:
    """A SHA-256 of the article's body text, blind to case, white space and Unicode forms."""
    text = unicodedata.normalize("NFKC", " ".join(article.paragraphs)).casefold()
    return hashlib.sha256(_SPACE.sub(" ", text).strip().encode("utf-8")).hexdigest()
