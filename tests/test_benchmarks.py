"""The benchmark scripts run end to end on a tiny QA set and print their tables."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from retrieval.errors import NewsbotError

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

# Three titled topics and a run of untitled search snippets, as in the two shared QA sets.
PASSAGES = [
    ("volcano-1", "Mount Hekla", "Mount Hekla is a stratovolcano in southern Iceland. It has "
     "erupted more than twenty times since the year 874, most recently in February 2000."),
    ("volcano-2", "Mount Hekla", "In the Middle Ages Icelanders called Hekla the gateway to "
     "hell. Ash from its 1104 eruption covered half of the island."),
    ("volcano-3", "Mount Hekla", "Scientists at the Icelandic Met Office watch Hekla with GPS "
     "stations and seismometers because its eruptions begin with little warning."),
    ("bread-1", "Sourdough", "Sourdough bread is leavened by wild yeast and lactic acid "
     "bacteria kept alive in a starter of flour and water."),
    ("bread-2", "Sourdough", "Bakers feed a sourdough starter every day; a starter in San "
     "Francisco has been kept going since 1849, the year of the gold rush."),
    ("bread-3", "Sourdough", "The sour taste comes from lactic and acetic acids that the "
     "bacteria make while the dough rises slowly overnight."),
    ("chess-1", "Chess openings", "The Sicilian Defence begins with 1.e4 c5 and is the most "
     "popular reply to the king's pawn opening at grandmaster level."),
    ("chess-2", "Chess openings", "The Queen's Gambit offers a pawn with 1.d4 d5 2.c4; White "
     "usually gets it back or gains a strong centre in exchange."),
    ("snip-1", "", "Mar 3, 2021 ... The city council approved a new tram line linking the "
     "airport with the central station, due to open in 2026 ..."),
    ("snip-2", "", "The tram line will cost 1.2 billion euros and carry 60,000 passengers a "
     "day, the transport authority said ..."),
    ("snip-3", "", "Jul 9, 2022 ... Heavy rain flooded the old town on Saturday; firefighters "
     "pumped water out of more than 300 cellars ..."),
    ("snip-4", "", "Residents of the old town were told to boil tap water until Monday after "
     "the floods ..."),
]  # fmt: skip
QUESTIONS = [
    ("q1", "Where is Mount Hekla?", ["volcano-1"], ["southern Iceland"]),
    ("q2", "What did Icelanders call Hekla in the Middle Ages?", ["volcano-2"], ["gateway"]),
    ("q3", "What makes sourdough bread rise?", ["bread-1"], ["wild yeast"]),
    ("q4", "Since when has the San Francisco starter been kept going?", ["bread-2"], ["1849"]),
    ("q5", "How does the Sicilian Defence begin?", ["chess-1"], ["1.e4 c5"]),
    ("q6", "How much will the new tram line cost?", ["snip-2"], ["1.2 billion euros"]),
    ("q7", "How many cellars did firefighters pump out after the floods?", ["snip-3"], ["300"]),
]


@pytest.fixture
def tiny_set(tmp_path: Path) -> Path:
    """A QA set file in the shared eval format."""
    path = tmp_path / "tiny_qa.json"
    data = {
        "source": "written for this test",
        "license": "MIT",
        "passages": [{"id": i, "title": t, "text": x, "url": None} for i, t, x in PASSAGES],
        "questions": [
            {"id": i, "question": q, "gold_passage_ids": g, "answers": a}
            for i, q, g, a in QUESTIONS
        ],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def benchmarks(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    """The benchmark modules, imported as `python benchmarks/<script>.py` sees them."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import bench_batching
    import bench_build
    import bench_core
    import bench_encoder
    import bench_index
    import bench_ingest
    import bench_integrity
    import bench_scale
    import bench_startup
    import bench_threads
    import calibrate_gate
    import corpus

    return {
        "bench_batching": bench_batching,
        "bench_build": bench_build,
        "bench_scale": bench_scale,
        "bench_startup": bench_startup,
        "bench_core": bench_core,
        "bench_encoder": bench_encoder,
        "bench_index": bench_index,
        "bench_ingest": bench_ingest,
        "bench_integrity": bench_integrity,
        "bench_threads": bench_threads,
        "calibrate_gate": calibrate_gate,
        "corpus": corpus,
    }


def _row(output: str, first_cell: str) -> list[str]:
    """The cells of the Markdown table row whose first cell starts with ``first_cell``."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].startswith(first_cell):
            return cells
    raise AssertionError(f"no table row {first_cell!r} in:\n{output}")


def test_corpus_maps_articles_back_to_passage_ids(
    benchmarks: dict[str, ModuleType], tiny_set: Path
) -> None:
    corpus = benchmarks["corpus"]
    eval_set = corpus.load_eval_set(tiny_set)
    articles = corpus.eval_articles(eval_set)
    assert [corpus.passage_id(a.url) for a in articles] == [p[0] for p in PASSAGES]
    news = corpus.news_articles([eval_set], 9)
    assert len({a.url for a in news}) == 9
    assert all(a.title and 1 <= len(a.paragraphs) <= 8 for a in news)
    assert not any(p.startswith(("Mar 3", "...")) or p.endswith("...") for a in news
                   for p in a.paragraphs)  # fmt: skip
    assert news == corpus.news_articles([eval_set], 9)  # deterministic
    questions = corpus.sample_questions([eval_set], 100)
    assert sorted(questions) == sorted(q[1] for q in QUESTIONS)


def test_corpus_rejects_unknown_gold_ids(benchmarks: dict[str, ModuleType], tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    question = {"id": "q", "question": "?", "gold_passage_ids": ["nope"], "answers": []}
    passage = {"id": "p", "title": "", "text": "t"}
    path.write_text(json.dumps({"passages": [passage], "questions": [question]}))
    with pytest.raises(NewsbotError, match="unknown passages"):
        benchmarks["corpus"].load_eval_set(path)


def test_best_per_passage_takes_the_best_chunk(benchmarks: dict[str, ModuleType]) -> None:
    scores = np.array([[0.1, 0.9, 0.3, 0.2], [0.5, 0.1, 0.2, 0.7]])
    groups = np.array([1, 0, 1, 2])
    best = benchmarks["calibrate_gate"].best_per_passage(scores, groups, 3)
    assert best.tolist() == [[0.9, 0.3, 0.2], [0.1, 0.5, 0.7]]


def test_bench_core_quick_prints_its_tables(
    benchmarks: dict[str, ModuleType], tiny_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick", "--dataset", str(tiny_set), "--articles", "3", "--questions", "4"]
    assert benchmarks["bench_core"].main(argv) == 0
    output = capsys.readouterr().out
    assert "command: `python benchmarks/bench_core.py --quick --dataset" in output
    raw, build = _row(output, "raw `model.encode`"), _row(output, "`build_index`")
    assert float(raw[2]) > 0 and float(build[2]) > 0  # passages/s
    assert 0 < float(build[3]) < 5  # throughput ratio to the raw encode
    assert re.search(r"build/raw throughput ratio per round: \d\.\d{3}; median \d\.\d{3}", output)
    assert _row(output, "measure")[2:4] == ["p50 ms", "p99 ms"]
    wall = _row(output, "`answer()` wall clock")
    assert wall[1] == "4" and 0 < float(wall[2]) <= float(wall[3])
    for step in ("- encode_ms", "- search_ms", "- compose_ms"):
        _row(output, step)


def test_bench_build_quick_sets_newsbot_index_beside_the_bare_encode(
    benchmarks: dict[str, ModuleType], tiny_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert benchmarks["bench_build"].main(["--quick", "--dataset", str(tiny_set)]) == 0
    output = capsys.readouterr().out
    assert "command: `python benchmarks/bench_build.py --quick --dataset" in output
    bare, index = _row(output, "bare `encode`"), _row(output, "`newsbot index` end to end")
    assert bare[3] == "1.00" and 0 < float(index[3]) < 5  # the throughput ratio
    for row in (bare, index):
        assert float(row[1]) > 0 and float(row[2]) > 0 and 100 < float(row[4]) < 5000  # RSS MB
    assert re.search(r"index/bare throughput ratio per round: \d\.\d{3} ", output)


def test_calibrate_gate_quick_prints_its_tables(
    benchmarks: dict[str, ModuleType], tiny_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick", "--dataset", str(tiny_set), "--seeds", str(SEEDS), "--check", "3"]
    assert benchmarks["calibrate_gate"].main(argv) == 0
    output = capsys.readouterr().out
    retrieval = _row(output, "tiny_qa")
    assert retrieval[1:4] == [str(len(PASSAGES)), str(len(PASSAGES)), str(len(QUESTIONS))]
    assert float(retrieval[5]) == 1.0  # hit@5: gold ids map back from the indexed URLs
    # The scores computed here are the ones the answerer's gate compares.
    assert retrieval[7] == "3 of 3"
    header = _row(output, "threshold")
    assert header[1:3] == ["tiny_qa answered", "tiny_qa declined (gold removed)"]
    calibrate = benchmarks["calibrate_gate"]
    for threshold in calibrate.THRESHOLDS:
        cells = _row(output, f"{threshold:.2f}")
        assert all(0 <= float(c) <= 100 for c in cells[1:3])
        if abs(threshold - calibrate.CURRENT_THRESHOLD) < 1e-9:
            assert cells[0].endswith("(current)")
    assert float(_row(output, "0.20")[1]) >= float(_row(output, "0.60")[1])
    seeds = [_row(output, q) for q, _ in calibrate.SEED_QUESTIONS]
    assert [s[1] for s in seeds] == ["yes", "yes", "yes", "no"]
    assert "Vietnam" in seeds[1][4]
    assert re.search(r"^suggested threshold: 0\.\d\d ", output, re.M)


def test_bench_threads_prints_both_settings(
    benchmarks: dict[str, ModuleType], tiny_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--dataset", str(tiny_set), "--questions", "2", "--batches", "1"]
    assert benchmarks["bench_threads"].main(argv) == 0
    output = capsys.readouterr().out
    for threads in ("1", "2"):
        cells = _row(output, threads)
        assert 0 < float(cells[1]) <= float(cells[2]) and float(cells[3]) > 0


def test_bench_ingest_prints_index_and_add(
    benchmarks: dict[str, ModuleType], tiny_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--dataset", str(tiny_set), "--articles", "6", "--repeats", "1"]
    assert benchmarks["bench_ingest"].main(argv) == 0
    output = capsys.readouterr().out
    index, add = _row(output, "index"), _row(output, "add")
    assert float(index[1]) > 0 and float(add[1]) > 0
    assert _row(output, "add again")[4].endswith("×")


def test_bench_scale_quick_prints_latency_per_size(
    benchmarks: dict[str, ModuleType], tiny_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick", "--dataset", str(tiny_set), "--real", "4"]
    assert benchmarks["bench_scale"].main(argv) == 0
    output = capsys.readouterr().out
    for size in ("100", "400"):  # --quick's sizes
        row = _row(output, size)
        assert row[2] == "hybrid"  # then dense, in a row of its own
        baseline, total = (float(cell.split(" / ")[0]) for cell in row[3:5])
        assert baseline > 0 and total > 0 and float(row[-1]) > 0
    assert sum(line.startswith("| 400 |") for line in output.splitlines()) == 2
    stages = _row(output, "400, hybrid")  # where the time went: a p50 / p99 per stage
    assert len(stages) == 10 and " / " in stages[1]  # the dense search, then the others


def test_bench_batching_quick_prints_throughput_per_level(
    benchmarks: dict[str, ModuleType], tiny_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick", "--dataset", str(tiny_set)]
    assert benchmarks["bench_batching"].main(argv) == 0
    output = capsys.readouterr().out
    one, four = _row(output, "1"), _row(output, "4")  # --quick's levels
    assert float(one[1]) > 0 and float(four[2]) > 0 and float(four[3]) > 0
    assert four[5].split(", ")[1] != "1"  # four questions at once did form a batch
    assert all(float(ms) > 0 for ms in four[6].split(", "))  # the bare encode, both ways


def test_bench_startup_quick_times_each_process(
    benchmarks: dict[str, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    assert benchmarks["bench_startup"].main(["--quick"]) == 0
    output = capsys.readouterr().out
    names = ("`newsbot --help`", "`newsbot ask` end to end", "`newsbot telegram` to ready",
             "`newsbot telegram` to its first reply", "first answer", "open the index")  # fmt: skip
    for name in names:
        assert float(_row(output, name)[1]) > 0


def test_bench_encoder_compares_the_three_backends(
    benchmarks: dict[str, ModuleType],
    tiny_set: Path,
    onnx_cache_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--quick", "--dataset", str(tiny_set), "--cache-dir", str(onnx_cache_dir)]
    assert benchmarks["bench_encoder"].main(argv) == 0
    output = capsys.readouterr().out
    assert "command: `python benchmarks/bench_encoder.py --quick" in output
    assert _row(output, "torch")[2] == "1.00"  # the baseline's ratio to itself
    for backend in ("onnx", "onnx-int8"):
        rate, ratio, p50, p99, startup = (float(c) for c in _row(output, backend)[1:6])
        assert rate > 0 and ratio > 0 and 0 < p50 <= p99 and startup > 0
    quality = [line.strip("|").split("|") for line in output.splitlines()
               if line.startswith("| tiny_qa |")]  # fmt: skip
    assert [cells[1].strip() for cells in quality] == ["torch", "onnx", "onnx-int8"]
    for cells in quality:
        assert cells[2].strip() == "3" and float(cells[4]) > 0  # questions (--quick), hit@5
    assert float(quality[1][6]) == 0.0  # fp32 ONNX ranks as torch does
    assert re.search(r"^onnx: \d+\.\d\d× torch throughput, .* (met|not met)$", output, re.M)
    assert re.search(r"^Batch sizes with [a-z0-9-]+ .*: 2: \d+\.\d, 4: \d+\.\d", output, re.M)


def test_bench_index_prints_flat_against_approximate(
    benchmarks: dict[str, ModuleType],
    tiny_set: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--dataset", str(tiny_set), "--sizes", "3000", "--queries", "7", "--flat-queries",
            "5", "--sweep-queries", "7", "--no-model", "--cache", str(tmp_path)]  # fmt: skip
    assert benchmarks["bench_index"].main(argv) == 0
    output = capsys.readouterr().out
    assert output.count("### realistic, 3,000 passages, 7 queries (flat: 5)") == 1
    assert output.count("### random, 3,000 passages, 7 queries (flat: 5)") == 1
    flat, ivf, hnsw = _row(output, "flat (baseline)"), _row(output, "ivf"), _row(output, "hnsw")
    assert flat[2] == "1544" and flat[7:] == ["1.000", "1.000"]  # 384 floats and an id
    assert int(ivf[2]) < 600 < int(flat[2]) < int(hnsw[2])  # 8-bit codes; a graph on top
    for row in (flat, ivf, hnsw):
        assert 0 < float(row[3]) <= float(row[4])  # RSS of the loading process, and its peak
        assert 0 < float(row[5]) <= float(row[6]) and 0 <= float(row[8]) <= 1
    bench = benchmarks["bench_index"]
    assert _row(output, f"{bench.DEFAULT_POLICY.nprobe} (default)")
    assert _row(output, f"{bench.HNSW_EF_SEARCH} (def")
    assert len(_row(output, "flat, 3,000 passages")) == 5 and "load average at the end" in output
    assert len(_row(output, "flat, 3,000 passages, 8-bit scan")) == 5


def test_bench_integrity_times_the_open_with_and_without_checks(
    benchmarks: dict[str, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    assert benchmarks["bench_integrity"].main(["--sizes", "100", "--repeats", "1"]) == 0
    cells = _row(capsys.readouterr().out, "100")
    numbers = [float(c.rstrip("×")) for c in cells[1:]]
    assert len(numbers) == 5 and numbers[2] > 0 and numbers[3] > 0  # timings too small to rank
