"""ONNX files of a local model, exported once and cached; the one place torch may load.

Cache layout: ``<cache_dir>/<model dir name>-<key>/model.onnx`` (and ``model-int8.onnx``),
where the key hashes the weights, ``config.json`` and this exporter's version, so that
another model or changed weights export afresh. Files appear by rename, complete or not at
all.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from retrieval.embedding.model import quiet_library_output
from retrieval.errors import ModelLoadError

# Bump when the exported graph changes (inputs, outputs, opset, quantisation), so that
# caches written by an older newsbot are not used.
EXPORT_VERSION = 1
OPSET = 17
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "token_embeddings"
STALE_TEMP_SECONDS = 3600  # an export takes seconds; older temp files are from a crash

_EXPORT_LOCK = threading.Lock()
log = logging.getLogger(__name__)


def cached_onnx(model_dir: Path, cache_dir: Path, *, int8: bool = False) -> Path:
    """The ONNX file of the model in ``model_dir``, exporting (and quantising) it if needed."""
    target = cache_dir / f"{model_dir.name}-{model_key(model_dir)}"
    fp32 = target / "model.onnx"
    with _EXPORT_LOCK:
        if not fp32.exists():
            _write_atomically(fp32, lambda tmp: export_onnx(model_dir, tmp))
        if not int8:
            return fp32
        quantised = target / "model-int8.onnx"
        if not quantised.exists():
            _write_atomically(quantised, lambda tmp: quantise_onnx(fp32, tmp))
        return quantised


def model_key(model_dir: Path) -> str:
    """A short hash of the model's weights and config, and of the exporter's version."""
    weights = next((model_dir / n for n in WEIGHT_FILES if (model_dir / n).exists()), None)
    if weights is None or not (model_dir / "config.json").exists():
        raise ModelLoadError(
            f"cannot export {model_dir} to ONNX: it holds no config.json and "
            f"{' or '.join(WEIGHT_FILES)}; set NEWSBOT_EMBEDDING_BACKEND=torch"
        )
    digest = hashlib.sha256(f"newsbot-onnx-{EXPORT_VERSION}\n".encode())
    digest.update((model_dir / "config.json").read_bytes())
    with weights.open("rb") as handle:
        digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()[:16]


def forget_export(path: Path) -> None:
    """Remove a cached file that would not load, so that the next use exports it again."""
    path.unlink(missing_ok=True)
    if path.name == "model.onnx":  # the int8 file was made from it
        (path.parent / "model-int8.onnx").unlink(missing_ok=True)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Have ``write`` fill a temporary file beside ``path``, then rename it into place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ModelLoadError(
            f"cannot write the model's ONNX export into {path.parent} "
            f"({exc.strerror or type(exc).__name__}): set NEWSBOT_MODEL_CACHE_DIR to a "
            "writable directory, or NEWSBOT_EMBEDDING_BACKEND=torch"
        ) from None
    for stale in path.parent.glob(".*.tmp"):
        if time.time() - stale.stat().st_mtime > STALE_TEMP_SECONDS:
            stale.unlink(missing_ok=True)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        temporary.chmod(0o644)  # mkstemp makes it private; the cache is as readable as the model
        with temporary.open("rb") as written:
            os.fsync(written.fileno())  # the rename must not land before the data
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def export_onnx(model_dir: Path, path: Path) -> None:
    """Export the transformer of ``model_dir`` to ``path``: ids and mask in, token rows out."""
    started = time.perf_counter()
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise ModelLoadError(
            f"cannot export {model_dir} to ONNX: {exc}; install torch and transformers "
            "(`pip install -e .`), or set NEWSBOT_EMBEDDING_BACKEND=torch"
        ) from None
    quiet_library_output()
    # Eager attention traces into plain ONNX ops; the fused kernels may not export.
    model = AutoModel.from_pretrained(model_dir, local_files_only=True, attn_implementation="eager")
    accepted = inspect.signature(model.forward).parameters
    names = [n for n in INPUT_NAMES if n in accepted]

    class TokenRows(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    # eval() on the wrapper: the exporter restores the wrapper's mode afterwards, recursively,
    # and a module in training mode would leave dropout on for the check below.
    wrapper = TokenRows().eval()
    # A padded row, so that tracing records the masking a padded batch needs.
    sample = _sample_inputs(names, [8, 5])
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, OUTPUT_NAME]}
    with torch.no_grad(), warnings.catch_warnings():
        # The legacy exporter warns that it is deprecated, and the tracer that shape checks
        # become constants; _check_export below runs other shapes to prove the graph right.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            tuple(torch.from_numpy(sample[n]) for n in names),
            str(path),
            input_names=names,
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
        probe = _sample_inputs(names, [13, 3, 9])
        expected = wrapper(*(torch.from_numpy(probe[n]) for n in names)).numpy()
    _check_export(path, probe, expected, model_dir)
    log.info("exported %s to ONNX in %.1f s", model_dir, time.perf_counter() - started)


def _sample_inputs(names: list[str], lengths: list[int]) -> dict[str, np.ndarray]:
    width = max(lengths)
    ids = np.zeros((len(lengths), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, length in enumerate(lengths):
        ids[row, :length] = 101 + 7 * np.arange(length) % 1000  # any ids below the vocab size
        mask[row, :length] = 1
    inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    return {n: inputs[n] for n in names}


def _check_export(
    path: Path, probe: dict[str, np.ndarray], expected: np.ndarray, model_dir: Path
) -> None:
    """Refuse an export whose token rows differ from torch's on a padded batch of new shape."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = session.run([OUTPUT_NAME], probe)[0]
    mask = probe["attention_mask"].astype(bool)
    error = float(np.abs(rows[mask] - expected[mask]).max())
    if error > 1e-3:
        raise ModelLoadError(
            f"the ONNX export of {model_dir} differs from the torch model by {error:.2g} on a "
            "padded batch; set NEWSBOT_EMBEDDING_BACKEND=torch for this model"
        )


class _DropPreprocessingHint(logging.Filter):
    """quantize_dynamic logs a hint about static quantisation pre-processing on the root
    logger; it does not apply to dynamic quantisation of a transformer."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def quantise_onnx(fp32: Path, path: Path) -> None:
    """Write an int8 version of ``fp32``: MatMul weights quantised per channel, dynamically."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    hint = _DropPreprocessingHint()
    logging.getLogger().addFilter(hint)
    try:
        # Per-tensor scales cost up to 0.1 in cosine on MiniLM; per-channel MatMul weights
        # stay within 0.01, and the embedding table (a Gather) stays float.
        quantize_dynamic(
            fp32,
            path,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
    finally:
        logging.getLogger().removeFilter(hint)
