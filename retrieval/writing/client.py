"""A client for OpenAI-compatible chat completions (OpenAI, llama.cpp, vLLM, Ollama's /v1)."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import httpx

from retrieval.errors import NewsbotError


class ModelError(NewsbotError):
    """The model could not be asked or gave no usable reply; the message says which."""


@dataclass(frozen=True)
class ModelSettings:
    """Where the model is and how to ask it; ``api_key`` is sent as a Bearer token only."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 20.0
    max_tokens: int = 300
    temperature: float = 0.0
    stream: bool = True


class ChatClient:
    """Asks for one chat completion at a time; safe to share between threads."""

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self.url = settings.base_url.rstrip("/") + "/chat/completions"
        headers = {"Accept": "text/event-stream" if settings.stream else "application/json"}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        self._http = httpx.Client(headers=headers, timeout=settings.timeout)

    def chat(self, messages: Sequence[dict[str, str]]) -> Iterator[str]:
        """The reply's text as it arrives (one piece when not streaming).

        The whole request, from connecting to the last byte, must end within
        ``settings.timeout``; otherwise, or on an HTTP error, a refused connection or a
        malformed reply, :class:`ModelError` is raised.
        """
        body = {
            "model": self.settings.model,
            "messages": list(messages),
            "max_tokens": self.settings.max_tokens,
            "temperature": self.settings.temperature,
            "stream": self.settings.stream,
        }
        # The request runs in a worker thread so that the deadline holds even while a read
        # blocks: httpx's timeouts bound each read, not the whole request.
        events: queue.Queue[tuple[str, str]] = queue.Queue()
        stop = threading.Event()
        worker = threading.Thread(target=self._request, args=(body, events, stop), daemon=True)
        deadline = time.monotonic() + self.settings.timeout
        worker.start()
        try:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    kind, value = events.get(timeout=max(remaining, 0.0))
                except queue.Empty:
                    raise ModelError(
                        f"no complete reply within {self.settings.timeout:g} s"
                    ) from None
                if kind == "text":
                    yield value
                elif kind == "error":
                    raise ModelError(value)
                else:
                    return
        finally:
            stop.set()

    def _request(
        self, body: dict[str, object], events: queue.Queue[tuple[str, str]], stop: threading.Event
    ) -> None:
        """Send the request and put ("text", piece), then ("done", "") or ("error", why)."""
        try:
            with self._http.stream("POST", self.url, json=body) as response:
                if response.status_code >= 400:
                    events.put(("error", f"HTTP {response.status_code} from the model server"))
                    return
                if self.settings.stream:
                    pieces = _stream_pieces(response, stop)
                else:
                    pieces = iter([_message_text(response.read())])
                got = False
                for piece in pieces:
                    if stop.is_set():
                        return
                    got = got or bool(piece.strip())
                    events.put(("text", piece))
                events.put(("done", "") if got else ("error", "the model's reply was empty"))
        except httpx.TimeoutException:
            events.put(("error", "the model server did not answer in time"))
        except httpx.HTTPError as exc:
            events.put(("error", f"could not reach the model server: {type(exc).__name__}"))
        except ModelError as exc:
            events.put(("error", str(exc)))

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()


def _message_text(raw: bytes) -> str:
    """The text of a plain JSON completion."""
    try:
        content = json.loads(raw)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ModelError("the model's reply was not a chat completion") from None
    if not isinstance(content, str):
        raise ModelError("the model's reply had no text")
    return content


def _stream_pieces(response: httpx.Response, stop: threading.Event) -> Iterator[str]:
    """The text deltas of a server-sent event stream, until ``data: [DONE]``."""
    if "text/event-stream" not in response.headers.get("content-type", ""):
        # Some servers ignore "stream": true and answer with plain JSON.
        yield _message_text(response.read())
        return
    for line in response.iter_lines():
        if stop.is_set():
            return
        if not line.startswith("data:"):
            continue  # comments, event names and keep-alives
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            choice = json.loads(data)["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            raise ModelError("the model sent a malformed event") from None
        delta = (choice.get("delta") or {}).get("content") if isinstance(choice, dict) else None
        if isinstance(delta, str) and delta:
            yield delta
