"""Which texts go into one model call: runs of texts sorted by length that pad little.

A call costs about its padded word pieces (texts × the longest), a little more per piece
the wider it is (attention), plus a fixed cost per call. Taking texts longest first in
calls of as many as fit wastes most when there are few texts: bench_build's 29,346
passages, embedded 184 at a time as commits of 50 articles embed them, padded to 22% more
word pieces than they hold. The runs are instead chosen to cost least under that model (a
shortest path over the sorted texts): 3.4% more than they hold, and 0.9% in windows of
2,048 passages (2.5% before).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Fitted to onnxruntime calls of all-MiniLM-L6-v2 on this machine's 2 cores, 1 to 64 texts
# of 16 to 256 pieces (the fastest of 5 runs each, load 1.4, 2026-12-02): 74 µs a piece,
# plus 3.6 ms a call, and a piece costs 1/1,066 more for every piece of the call's width.
CALL_COST_PIECES = 48.0  # a call's fixed cost, in word pieces of model work
ATTENTION_WIDTH = 1066.0  # a piece in a call of this width costs twice one in a narrow call


def plan_batches(lengths: Sequence[int], most: int, max_pieces: int) -> list[list[int]]:
    """The indices of ``lengths`` (word pieces per text) in model calls, longest first,
    each of at most ``most`` texts and ``max_pieces`` padded pieces (one text alone may be
    longer), split where the calls and their padding cost least."""
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    widths = np.maximum(np.asarray(lengths, dtype=np.float64)[order], 1.0)
    count = len(widths)
    best = np.full(count + 1, np.inf)
    best[0] = 0.0
    start_of = np.zeros(count + 1, dtype=np.int64)
    for end in range(1, count + 1):
        starts = np.arange(max(0, end - most), end)
        width = widths[starts]  # a run's longest text is its first
        sizes = end - starts
        fits = (sizes * width <= max_pieces) | (sizes == 1)
        cost = best[starts] + sizes * width * (1.0 + width / ATTENTION_WIDTH) + CALL_COST_PIECES
        cost[~fits] = np.inf
        pick = int(np.argmin(cost))
        best[end], start_of[end] = cost[pick], starts[pick]
    runs: list[list[int]] = []
    end = count
    while end > 0:
        start = int(start_of[end])
        runs.append([int(i) for i in order[start:end]])
        end = start
    return runs[::-1]
