"""The ONNX backend: torch's vectors without torch, a safe export cache, clear refusals."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from bot.app import make_embedder
from bot.settings import Settings, SettingsError, load_settings
from retrieval.answering import Answerer
from retrieval.chunking import ChunkSettings
from retrieval.embedding import (
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    bundled_model_path,
    onnx_export,
)
from retrieval.embedding import onnx_backend as onnx_embedding
from retrieval.errors import IndexMismatchError, ModelLoadError
from retrieval.index import EmbeddedStorage, IndexSpec

ROOT = Path(__file__).resolve().parents[1]
LONG = " ".join(
    f"Report {i}: the Kremlin said talks in Pyongyang covered trade, satellites and rail links."
    for i in range(40)
)  # about 800 word pieces: truncated at 256
TEXTS = [
    "When is Putin visiting Pyongyang?",
    "Putin will then travel to Vietnam.",
    "  Leading and trailing spaces, ünïcödé and a URL https://example.org/a?b=1  ",
    "Sourdough is leavened by wild yeast and lactic acid bacteria.",
    "x",
    LONG,
]


@pytest.fixture(scope="module")
def cache_dir(onnx_cache_dir: Path) -> Path:
    return onnx_cache_dir


@pytest.fixture(scope="module")
def onnx_fp32(cache_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder(cache_dir=cache_dir)


@pytest.fixture(scope="module")
def onnx_int8(cache_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder(cache_dir=cache_dir, int8=True)


@pytest.fixture
def fresh_process_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget the sessions this process loaded, as a new process would."""
    monkeypatch.setattr(onnx_embedding, "_LOADED", {})


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_fp32_vectors_match_torch(onnx_fp32: OnnxEmbedder, embedder) -> None:
    ours, theirs = onnx_fp32.encode(TEXTS, batch_size=4), embedder.encode(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert _cosines(ours, theirs).min() > 0.9999
    assert np.abs(ours - theirs).max() < 1e-4
    assert onnx_fp32.name == embedder.name  # the same vectors: a torch-built index stays valid
    assert onnx_fp32.encode([]).shape == (0, 384)


def test_int8_vectors_are_close_to_torch(onnx_int8: OnnxEmbedder, embedder) -> None:
    cosines = _cosines(onnx_int8.encode(TEXTS), embedder.encode(TEXTS))
    print(f"int8 against torch: cosines {np.round(cosines, 4).tolist()}")
    # Measured when written: 0.9755 for "x", 0.992-0.996 for the others. Activations are
    # quantised with one scale per batch, so a one-word text padded beside a 256-token one
    # loses the most; retrieval quality is measured in benchmarks/bench_encoder.py.
    assert cosines.min() > 0.97
    assert np.median(cosines) > 0.99
    assert cosines.min() < 0.99999  # really quantised, not the fp32 file under another name
    assert onnx_int8.name == "sentence-transformers/all-MiniLM-L6-v2+int8"


def test_token_counts_and_length_agree_with_torch(onnx_fp32: OnnxEmbedder, embedder) -> None:
    assert onnx_fp32.max_tokens == embedder.max_tokens == 256
    assert onnx_fp32.dimension == embedder.dimension == 384
    counts = [onnx_fp32.count_tokens(t) for t in TEXTS]
    assert counts == [embedder.count_tokens(t) for t in TEXTS]
    assert counts[-1] > 256  # counting does not truncate: the chunker relies on it
    assert onnx_fp32.count_tokens_many(TEXTS * 700) == counts * 700  # slices of 1,024
    assert embedder.count_tokens_many(TEXTS) == counts


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_token_vectors_pool_to_the_sentence_vector(
    backend: str, onnx_fp32: OnnxEmbedder, embedder
) -> None:
    model = embedder if backend == "torch" else onnx_fp32
    pairs = model.token_vectors(TEXTS, batch_size=4)
    vectors = model.encode(TEXTS)
    for text, (rows, offsets), vector in zip(TEXTS, pairs, vectors, strict=True):
        assert rows.dtype == np.float32 and rows.shape == (min(model.count_tokens(text), 256), 384)
        assert offsets.shape == (len(rows), 2)
        assert offsets[0].tolist() == offsets[-1].tolist() == [0, 0]  # [CLS], [SEP]
        pooled = rows.mean(axis=0) / np.linalg.norm(rows.mean(axis=0))
        assert pooled @ vector > 0.9999
    rows, offsets = pairs[2]
    pieces = [TEXTS[2][start:end] for start, end in offsets[1:-1]]
    assert pieces[:3] == ["Leading", "and", "trailing"]  # offsets into the text as given
    assert model.token_vectors([]) == []


def test_token_vectors_agree_between_backends(onnx_fp32: OnnxEmbedder, embedder) -> None:
    for (ours, our_spans), (theirs, their_spans) in zip(
        onnx_fp32.token_vectors(TEXTS), embedder.token_vectors(TEXTS), strict=True
    ):
        assert np.array_equal(our_spans, their_spans)
        assert np.abs(ours - theirs).max() < 1e-3


def test_long_texts_go_in_smaller_batches_with_the_same_vectors(
    onnx_fp32: OnnxEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [f"Report {n}: " + "the harbour tram line was approved again. " * (1 + n % 6)
             for n in range(20)]  # fmt: skip
    whole = onnx_fp32.encode(texts, batch_size=64)
    runtime = onnx_fp32.runtime
    shapes: list[tuple[int, int]] = []
    forward = runtime.forward

    def recorded(encodings):  # type: ignore[no-untyped-def]
        shapes.append((len(encodings), max(len(e.ids) for e in encodings)))
        return forward(encodings)

    monkeypatch.setattr(onnx_embedding, "MAX_BATCH_TOKENS", 100)
    monkeypatch.setattr(runtime, "forward", recorded)
    bounded = onnx_fp32.encode(texts, batch_size=64)
    assert len(shapes) > 2 and all(size * width <= 100 or size == 1 for size, width in shapes)
    assert sum(size for size, _ in shapes) == len(texts)
    assert np.allclose(whole, bounded, atol=1e-5)


def test_concurrent_encodes_give_the_sequential_vectors(onnx_fp32: OnnxEmbedder) -> None:
    expected = onnx_fp32.encode(TEXTS)
    results: list[np.ndarray] = []

    def work() -> None:
        for _ in range(3):
            results.append(onnx_fp32.encode(TEXTS, batch_size=2))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 12
    assert all(np.allclose(r, expected, atol=1e-5) for r in results)


def test_a_second_process_reuses_the_export(
    onnx_fp32: OnnxEmbedder,
    cache_dir: Path,
    fresh_process_cache: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    onnx_fp32.encode(["make sure it was exported"])
    (exported,) = cache_dir.glob("*/model.onnx")
    written = exported.stat().st_mtime_ns

    def no_export(*args: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_export, "export_onnx", no_export)
    again = OnnxEmbedder(cache_dir=cache_dir)
    assert again.encode(["Putin"]).shape == (1, 384)
    assert exported.stat().st_mtime_ns == written
    assert not list(cache_dir.glob("*/.*.tmp"))  # no temporary file left behind


def test_changed_weights_get_their_own_export(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"hidden_size": 4}')
    (model / "model.safetensors").write_bytes(b"weights one")
    first = onnx_export.model_key(model)
    (model / "model.safetensors").write_bytes(b"weights two")
    assert onnx_export.model_key(model) != first


def test_a_corrupt_cached_export_is_exported_again(
    onnx_fp32: OnnxEmbedder, cache_dir: Path, tmp_path: Path, fresh_process_cache: None
) -> None:
    onnx_fp32.encode(["make sure it was exported"])
    copy = tmp_path / "cache"
    shutil.copytree(cache_dir, copy)
    (exported,) = copy.glob("*/model.onnx")
    size = exported.stat().st_size
    with exported.open("r+b") as handle:  # as if a copy or a disk had cut it short
        handle.truncate(size // 2)
    vectors = OnnxEmbedder(cache_dir=copy).encode(TEXTS[:2])
    assert np.allclose(vectors, onnx_fp32.encode(TEXTS[:2]), atol=1e-5)
    assert abs(exported.stat().st_size - size) < size // 100


def _model_copy(tmp_path: Path) -> Path:
    """A copy of the bundled model whose configs a test can change."""
    model = tmp_path / "model"
    shutil.copytree(bundled_model_path(), model)
    return model


def test_cls_pooling_is_refused(tmp_path: Path) -> None:
    model = _model_copy(tmp_path)
    config = model / "1_Pooling" / "config.json"
    pooling = json.loads(config.read_text())
    config.write_text(
        json.dumps({**pooling, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    )
    with pytest.raises(ModelLoadError) as error:
        OnnxEmbedder(str(model), cache_dir=tmp_path / "cache").encode(["x"])
    message = str(error.value)
    assert "mean pooling only" in message and "pooling_mode_cls_token" in message
    assert "NEWSBOT_EMBEDDING_BACKEND=torch" in message
    assert not (tmp_path / "cache").exists()  # refused before exporting anything


def test_extra_modules_are_refused(tmp_path: Path) -> None:
    model = _model_copy(tmp_path)
    modules = json.loads((model / "modules.json").read_text())
    modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "models.Dense"})
    (model / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ModelLoadError, match=r"modules \['Transformer', 'Pooling', 'Dense'"):
        OnnxEmbedder(str(model), cache_dir=tmp_path / "cache").encode(["x"])


def test_cached_export_runs_without_torch(onnx_fp32: OnnxEmbedder, cache_dir: Path) -> None:
    expected = onnx_fp32.encode(["Putin will then travel to Vietnam."])
    code = (
        "import sys; from pathlib import Path; import numpy as np\n"
        "from retrieval.embedding.onnx_backend import OnnxEmbedder\n"
        f"vector = OnnxEmbedder(cache_dir=Path({str(cache_dir)!r})).encode(\n"
        "    ['Putin will then travel to Vietnam.'])\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers')\n"
        "         if m in sys.modules]\n"
        "print(heavy, vector[0, :4].tolist())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    heavy, _, values = done.stdout.strip().partition(" ")
    assert heavy == "[]", done.stdout
    assert np.allclose(json.loads(values), expected[0, :4], atol=1e-5)


def test_backend_setting_accepts_the_three_and_rejects_others(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.embedding_backend == "onnx"
    made = make_embedder(defaults)
    assert isinstance(made, OnnxEmbedder) and not made._int8
    assert made._cache_dir == Path(os.environ["XDG_CACHE_HOME"]) / "newsbot" / "models"
    monkeypatch.setenv("NEWSBOT_EMBEDDING_BACKEND", "torch")
    assert isinstance(make_embedder(load_settings(None)), SentenceTransformerEmbedder)
    monkeypatch.setenv("NEWSBOT_MODEL_CACHE_DIR", str(tmp_path / "models"))
    for value, int8 in (("onnx", False), ("onnx-int8", True)):
        monkeypatch.setenv("NEWSBOT_EMBEDDING_BACKEND", value)
        made = make_embedder(load_settings(None))
        assert isinstance(made, OnnxEmbedder) and made._int8 is int8
        assert made._cache_dir == tmp_path / "models"
    monkeypatch.setenv("NEWSBOT_EMBEDDING_BACKEND", "tensorrt")
    with pytest.raises(SettingsError, match="NEWSBOT_EMBEDDING_BACKEND"):
        load_settings(None)


def test_int8_refuses_a_torch_built_index_and_fp32_reads_it(
    seed_data_dir: Path, onnx_fp32: OnnxEmbedder, onnx_int8: OnnxEmbedder
) -> None:
    question = "When is Putin visiting Pyongyang?"
    spec = IndexSpec(onnx_int8.name, ChunkSettings())
    with pytest.raises(IndexMismatchError) as error:
        Answerer(EmbeddedStorage(seed_data_dir, spec), onnx_int8).answer(
            question, as_of=date(2024, 6, 17)
        )
    message = str(error.value)
    assert "+int8" in message and "newsbot index" in message and "rebuild" in message
    spec = IndexSpec(onnx_fp32.name, ChunkSettings())
    answer = Answerer(EmbeddedStorage(seed_data_dir, spec), onnx_fp32).answer(
        question, as_of=date(2024, 6, 17)
    )
    assert answer.answered and "June 18" in answer.text
