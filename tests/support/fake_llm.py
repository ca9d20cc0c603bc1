"""Fake OpenAI and Anthropic servers on 127.0.0.1 that speak the real wire format (JSON and SSE)."""

from __future__ import annotations

import http.server
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HOST = "127.0.0.1"


@dataclass
class Reply:
    """What the fake model answers: text, or tool calls ``[(name, json_arguments)]``."""

    text: str = "ok"
    tool_calls: list[tuple[str, str]] = field(default_factory=list)
    input_tokens: int = 11
    output_tokens: int = 7
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


Script = Callable[[dict[str, Any]], Reply]


@dataclass
class Request:
    """One request the fake server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class _Server:
    """A threading HTTP server answering with ``script(request_body)``, recording every request."""

    def __init__(self, script: Script | None = None) -> None:
        self.script: Script = script or (lambda body: Reply())
        self.requests: list[Request] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw or b"{}")
                with owner._lock:
                    owner.requests.append(Request(self.path, dict(self.headers.items()), body))
                    n = next(owner._ids)
                owner.answer(self, body, owner.script(body), n)

            def do_GET(self) -> None:
                with owner._lock:
                    owner.requests.append(Request(self.path, dict(self.headers.items()), {}))
                owner.send_json(self, {"ok": True})

            def log_message(self, *args: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, handler: Any, body: dict[str, Any], reply: Reply, n: int) -> None:
        raise NotImplementedError

    @staticmethod
    def send_json(handler: Any, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def send_sse(handler: Any, events: list[tuple[str | None, dict[str, Any] | str]]) -> None:
        chunks = []
        for name, data in events:
            text = data if isinstance(data, str) else json.dumps(data)
            chunks.append((f"event: {name}\n" if name else "") + f"data: {text}\n\n")
        payload = "".join(chunks).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeOpenAI(_Server):
    """``POST /v1/chat/completions`` (JSON, or SSE with ``stream_options.include_usage``)."""

    def answer(self, handler: Any, body: dict[str, Any], reply: Reply, n: int) -> None:
        if not handler.path.endswith("/chat/completions"):
            handler.send_error(404)
            return
        model = body.get("model", "gpt-4o-mini")
        cid = f"chatcmpl-fake{n:06d}"
        usage = {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
            "prompt_tokens_details": {"cached_tokens": reply.cache_read_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }
        tool_calls = [
            {"id": f"call_{n}_{i}", "type": "function", "function": {"name": name, "arguments": args}}
            for i, (name, args) in enumerate(reply.tool_calls)
        ]
        finish = "tool_calls" if tool_calls else "stop"
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": None if tool_calls else reply.text}
            if tool_calls:
                message["tool_calls"] = tool_calls
            self.send_json(
                handler,
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": 1764547200,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                    "usage": usage,
                },
            )
            return
        base = {"id": cid, "object": "chat.completion.chunk", "created": 1764547200, "model": model}
        events: list[tuple[str | None, dict[str, Any] | str]] = [
            (None, {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        ]
        if tool_calls:
            for i, call in enumerate(tool_calls):
                delta = {"tool_calls": [{"index": i, **call}]}
                events.append((None, {**base, "choices": [{"index": 0, "delta": delta}]}))
        else:
            for word in reply.text.split(" "):
                events.append((None, {**base, "choices": [{"index": 0, "delta": {"content": word + " "}}]}))
        events.append((None, {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append((None, {**base, "choices": [], "usage": usage}))
        events.append((None, "[DONE]"))
        self.send_sse(handler, events)


class FakeAnthropic(_Server):
    """``POST /v1/messages`` (JSON, or the SSE event stream when ``stream`` is true)."""

    def answer(self, handler: Any, body: dict[str, Any], reply: Reply, n: int) -> None:
        if not handler.path.endswith("/messages"):
            handler.send_error(404)
            return
        model = body.get("model", "claude-3-5-sonnet-20241022")
        mid = f"msg_fake{n:06d}"
        usage = {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_read_input_tokens": reply.cache_read_tokens,
            "cache_creation_input_tokens": reply.cache_write_tokens,
        }
        if not body.get("stream"):
            self.send_json(
                handler,
                {
                    "id": mid,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [{"type": "text", "text": reply.text}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": usage,
                },
            )
            return
        start_usage = {**usage, "output_tokens": 1}
        events: list[tuple[str | None, dict[str, Any] | str]] = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": mid,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": start_usage,
                    },
                },
            ),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            ),
        ]
        for word in reply.text.split(" "):
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": word + " "},
                    },
                )
            )
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": reply.output_tokens},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        self.send_sse(handler, events)


class HeaderServer(_Server):
    """Answers every request with ``{"ok": true}``; used to read the headers a client sent."""

    def answer(self, handler: Any, body: dict[str, Any], reply: Reply, n: int) -> None:
        self.send_json(handler, {"ok": True})
