"""Answering: from a question to a grounded answer with numbered citations.

``answerer`` coordinates: it retrieves passages through the store reader (``search``:
dense, keyword and fused ranking, copies folded, recency and time frames from
``timeframe``), optionally reranks them (``reranking``), chooses the sentences that answer
(``compose``), notices reports that disagree (``conflicts``) and writes the text with its
citations (``citations``). It reads the index only through the reader protocol, so any
storage backend serves it.
"""

from retrieval.answering.answerer import Answerer, AnswerSettings
from retrieval.answering.reranking import CrossEncoderReranker, Reranker
from retrieval.answering.search import METHODS, Hit

__all__ = ["METHODS", "AnswerSettings", "Answerer", "CrossEncoderReranker", "Hit", "Reranker"]
