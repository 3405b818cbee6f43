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
# Query parameters that carry a secret (signed links, API keys, session tokens): never shown,
# never stored. Names are compared lower-cased; the suffixes catch "feed_token", "x-api-key".
SECRET_PARAMS = frozenset(
    {
        "token", "auth", "authorization", "key", "apikey", "sig", "signature", "password",
        "passwd", "pwd", "secret", "session", "sessionid", "jwt",
        "x-amz-credential", "x-amz-security-token", "x-goog-credential",
    }
)  # fmt: skip
SECRET_SUFFIXES = ("token", "secret", "password", "signature", "_key", "-key", "apikey")
REDACTED = "REDACTED"
DEFAULT_PORTS = {"http": 80, "https": 443}
_SPACE = re.compile(r"\s+")
_CREDENTIALS = re.compile(r"//[^/?#]*@")
_QUERY_PAIR = re.compile(r"(^|[&;])([^=&;#]+)=([^&;#]*)")


def canonical_url(url: str) -> str:
    """The URL that identifies an article: tracking parameters, fragment and credentials gone.

    Scheme and host are lower-cased, a default port and an empty path are normalised, and
    the remaining query parameters keep their order and their original encoding; secret
    ones (``token``, ``key``, ``sig``, ...) are dropped like credentials. Raises
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
        pair
        for pair in parts.query.split("&")
        if pair and not _is_tracking(pair.split("=")[0]) and not is_secret_param(pair.split("=")[0])
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def _is_tracking(key: str) -> bool:
    name = unquote_plus(key).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an http(s) URL with a host ("http://" alone is not)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in DEFAULT_PORTS and bool(parts.hostname)


def is_secret_param(key: str) -> bool:
    """Whether a query parameter's name says its value is a secret (a token, key, signature)."""
    name = unquote_plus(key).strip().lower()
    return name in SECRET_PARAMS or name.endswith(SECRET_SUFFIXES)


def redacted(url: str) -> str:
    """``url`` fit to show or log: no user name or password, secret query values replaced.

    Works on text that does not parse as a URL too, since what a user typed is shown back.
    """
    url = _CREDENTIALS.sub("//", url, count=1)
    head, mark, rest = url.partition("?")
    if not mark:
        return url
    query, hash_mark, fragment = rest.partition("#")

    def hide(pair: re.Match[str]) -> str:
        return f"{pair[1]}{pair[2]}={REDACTED}" if is_secret_param(pair[2]) else pair[0]

    return head + mark + _QUERY_PAIR.sub(hide, query) + hash_mark + fragment


def content_hash(article: Article) -> str:
    """A SHA-256 of the article's body text, blind to case, white space and Unicode forms."""
    text = unicodedata.normalize("NFKC", " ".join(article.paragraphs)).casefold()
    return hashlib.sha256(_SPACE.sub(" ", text).strip().encode("utf-8")).hexdigest()
