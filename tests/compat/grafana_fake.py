"""A local HTTP receiver that answers like Grafana's HTTP API and records every request it gets."""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Recorded:
    """One request: method, path, JSON body and the Authorization header."""

    method: str
    path: str
    body: Any
    authorization: str | None


class GrafanaFake:
    """Dashboards and alert rules kept in memory; the answers have the shape Grafana's docs give."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.rules: list[dict[str, Any]] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                fake.requests.append(
                    Recorded(self.command, self.path, body, self.headers.get("Authorization"))
                )
                status, answer = fake.route(self.command, self.path, body)
                self._answer(status, answer)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args: object) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def route(self, method: str, path: str, body: Any) -> tuple[int, object]:
        if method == "POST" and path == "/api/dashboards/db":
            model = dict(body["dashboard"])
            uid = model.get("uid") or f"d{len(self.dashboards) + 1:04d}"
            if uid in self.dashboards and not body.get("overwrite"):
                return 412, {
                    "message": "The dashboard has been changed by someone else",
                    "status": "version-mismatch",
                }
            version = self.dashboards.get(uid, {}).get("version", 0) + 1
            model.update(uid=uid, version=version)
            self.dashboards[uid] = model
            return 200, {"id": 1, "uid": uid, "url": f"/d/{uid}/x", "status": "success", "version": version}
        if method == "GET" and path.startswith("/api/dashboards/uid/"):
            uid = path.rsplit("/", 1)[1]
            if uid not in self.dashboards:
                return 404, {"message": "Dashboard not found"}
            return 200, {"dashboard": self.dashboards[uid], "meta": {"slug": "x", "folderUid": ""}}
        if method == "POST" and path == "/api/v1/provisioning/alert-rules":
            rule = {**body, "uid": f"r{len(self.rules) + 1}", "id": len(self.rules) + 1}
            self.rules.append(rule)
            return 201, rule
        if method == "GET" and path == "/api/v1/provisioning/alert-rules":
            return 200, self.rules
        return 404, {"message": "not found"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
