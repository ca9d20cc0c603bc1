"""Where verification reads from: a service's base URL, a Prometheus server, or the local store."""

from __future__ import annotations

import base64
import http.client
import math
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from otel_agents.api import _semconv as semconv
from otel_agents.api._urls import masked

FIGURES: Final = ("p95_latency_s", "error_rate", "cost_per_run_usd")
_RUN_OPS: Final = (semconv.OP_INVOKE_WORKFLOW, semconv.OP_INVOKE_AGENT)


class TargetUnreachable(OSError):
    """A target that does not answer; the message is one line fit for the user."""


@dataclass(frozen=True)
class Figures:
    """Performance over a window: runs seen, their p95 latency, error rate and mean cost."""

    runs: float
    p95_latency_s: float | None
    error_rate: float | None
    cost_per_run_usd: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def prom_name(name: str) -> str:
    """A metric's OTel name as the Prometheus exporter's prefix (units and _total may follow)."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _request(url: str) -> urllib.request.Request:
    """A GET of ``url``; ``user:password@`` in it is sent as HTTP Basic auth (an authenticated
    Prometheus, Grafana Cloud's), to that host only: never along a redirect to another."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return urllib.request.Request(url)  # noqa: S310 - _get checked the scheme
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    request = urllib.request.Request(urllib.parse.urlunsplit(parts._replace(netloc=host)))  # noqa: S310 - as above
    pair = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}".encode()
    request.add_unredirected_header("Authorization", "Basic " + base64.b64encode(pair).decode())
    return request


def _get(url: str, timeout: float, what: str) -> tuple[int, bytes]:
    if not url.startswith(("http://", "https://")):
        raise TargetUnreachable(f"{what}: expected an http:// or https:// URL")
    try:
        with urllib.request.urlopen(_request(url), timeout=timeout) as resp:  # noqa: S310 - scheme checked
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TargetUnreachable(f"{what} is unreachable ({reason})") from None
    except http.client.HTTPException as exc:
        # Something listens there but does not speak HTTP (or hung up mid-answer).
        detail = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:120]
        raise TargetUnreachable(f"{what} did not answer HTTP ({detail})") from None


class ServiceSource:
    """A running service: ``GET /health`` and ``GET /metrics`` under its base URL."""

    kind = "service"

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.url = base_url.rstrip("/")
        self.shown = masked(self.url)
        self.timeout = timeout

    def health(self) -> tuple[bool, str]:
        """(healthy, detail): 200 and every check passing, else what failed."""
        status, body = _get(f"{self.url}/health", self.timeout, f"service {self.shown}")
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            doc = None
        if not isinstance(doc, dict):
            # A catch-all page or a proxy's answer is not a health report: never a silent pass.
            return False, f"HTTP {status}; the body is not a JSON health report"
        checks = doc.get("checks", [])
        checks = checks if isinstance(checks, list) else []
        failing = [
            f"{c.get('name')}: {c.get('message') or c.get('status')}"
            for c in checks
            if isinstance(c, dict) and c.get("status") != "pass"
        ]
        overall = doc.get("status", "pass")
        if overall != "pass" and not failing:
            failing = [f"status {overall}"]
        if status == 200 and not failing:
            return True, f"200, {len(checks)} check(s) pass"
        detail = f"HTTP {status}" + (f"; failing: {'; '.join(failing)}" if failing else "")
        return False, detail

    def has_metric(self, name: str, service: str | None) -> bool:
        """True when ``/metrics`` exposes a series of ``name``."""
        status, body = _get(f"{self.url}/metrics", self.timeout, f"service {self.shown}")
        if status != 200:
            return False
        prefix = prom_name(name)
        for line in body.decode(errors="replace").splitlines():
            if line.startswith("#") or not line.startswith(prefix):
                continue
            rest = line[len(prefix) :]
            if rest[:1] in ("{", " ", "_"):
                return True
        return False


class PrometheusSource:
    """A Prometheus server's query API over the collector-exported app metrics."""

    kind = "prometheus"

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.shown = masked(self.url)
        self.timeout = timeout

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        q = urllib.parse.urlencode({"query": promql})
        status, body = _get(f"{self.url}/api/v1/query?{q}", self.timeout, f"Prometheus {self.shown}")
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise TargetUnreachable(f"Prometheus {self.shown} answered {status} without JSON") from None
        if status != 200 or doc.get("status") != "success":
            raise TargetUnreachable(f"Prometheus {self.shown} refused a query: {doc.get('error', status)}")
        result = doc.get("data", {}).get("result", [])
        return result if isinstance(result, list) else []

    def _scalar(self, promql: str) -> float | None:
        result = self.query(promql)
        if not result:
            return None
        value = float(result[0]["value"][1])
        return None if math.isnan(value) or math.isinf(value) else value

    @staticmethod
    def _selector(service: str | None, version: str | None) -> list[str]:
        out = []
        if service is not None:
            out.append(f"{prom_name(semconv.SERVICE_NAME)}={_quote(service)}")
        if version is not None:
            out.append(f"{prom_name(semconv.SERVICE_VERSION)}={_quote(version)}")
        return out

    def has_metric(self, name: str, service: str | None) -> bool:
        """True when Prometheus holds a series of ``name`` (any unit or _total suffix)."""
        matchers = [f'__name__=~"{prom_name(name)}(_.+)?"', *self._selector(service, None)]
        return bool(self.query("count({" + ", ".join(matchers) + "})"))

    def figures(self, service: str | None, version: str | None, window_s: float) -> Figures:
        """Runs are workflows, else agents: p95 from their duration histogram, the rest from counters."""
        w = f"{max(int(window_s), 1)}s"
        base = self._selector(service, version)
        op_label = prom_name(semconv.GEN_AI_OPERATION_NAME)
        calls_name = prom_name(semconv.METRIC_CALLS) + "_total"
        runs, sel, histogram = None, "", ""
        for op, metric in (
            (semconv.OP_INVOKE_WORKFLOW, semconv.METRIC_WORKFLOW_DURATION),
            (semconv.OP_INVOKE_AGENT, semconv.METRIC_AGENT_DURATION),
        ):
            sel = "{" + ", ".join([*base, f'{op_label}="{op}"']) + "}"
            histogram = prom_name(metric)
            runs = self._scalar(f"sum(increase({calls_name}{sel}[{w}]))")
            if runs:
                break
        if not runs:
            return Figures(0, None, None, None)
        plain = "{" + ", ".join(base) + "}"
        errors = self._scalar(f"sum(increase({prom_name(semconv.METRIC_ERRORS)}_total{sel}[{w}]))") or 0.0
        cost = self._scalar(f"sum(increase({prom_name(semconv.METRIC_COST)}_USD_total{plain}[{w}]))")
        p95 = self._scalar(
            f"histogram_quantile(0.95, sum by (le) (rate({histogram}_seconds_bucket{sel}[{w}])))"
        )
        return Figures(runs, p95, errors / runs, (cost or 0.0) / runs)


class StoreSource:
    """The local store: runs (workflows and top-level agents) with their resource's version."""

    kind = "store"

    def __init__(self, home: Path) -> None:
        from otel_agents.store import _db as db
        from otel_agents.store import _paths as paths

        self.home = home
        path = paths.db_path(home)
        if not path.exists():
            raise TargetUnreachable(f"no store at {home} (point --home or OTEL_AGENTS_HOME at one)")
        try:
            self.conn = db.connect(path, readonly=True)
            self.conn.execute("SELECT 1 FROM runs LIMIT 1")
        except sqlite3.Error as exc:
            raise TargetUnreachable(f"cannot read the store at {home} ({exc})") from None

    def has_metric(self, name: str, service: str | None) -> bool:
        """True when the store holds a point of ``name`` (from ``service``, when given)."""
        sql = "SELECT 1 FROM metric_points WHERE name = ?"
        params: list[Any] = [name]
        if service is not None:
            sql += " AND service = ?"
            params.append(service)
        return self.conn.execute(sql + " LIMIT 1", params).fetchone() is not None

    def figures(self, service: str | None, version: str | None, window_s: float, now_ns: int) -> Figures:
        """Exact figures over the runs that started in the window."""
        clauses = ["r.start_ns > ?", "r.start_ns <= ?"]
        params: list[Any] = [now_ns - int(window_s * 1e9), now_ns]
        if service is not None:
            clauses.append("r.service = ?")
            params.append(service)
        if version is not None:
            clauses.append(f"json_extract(res.attributes, '$.\"{semconv.SERVICE_VERSION}\"') = ?")
            params.append(version)
        rows = self.conn.execute(
            "SELECT r.duration_ns, r.status, r.cost_usd FROM runs r"  # noqa: S608 - fixed clauses
            " JOIN spans s ON s.trace_id = r.trace_id AND s.span_id = r.span_id"
            " LEFT JOIN resources res ON res.id = s.resource_id"
            f" WHERE {' AND '.join(clauses)}",
            params,
        ).fetchall()
        if not rows:
            return Figures(0, None, None, None)
        durations = sorted(int(d) for d, _, _ in rows)
        errors = sum(1 for _, status, _ in rows if status == "error")
        cost = sum(float(c or 0.0) for _, _, c in rows)
        return Figures(len(rows), _quantile(durations, 0.95) / 1e9, errors / len(rows), cost / len(rows))


def _quantile(ordered: list[int], q: float) -> float:
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def load_baseline(path: Path) -> Figures:
    """Recorded figures (JSON written by ``verify --record``); ValueError names the bad field."""
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the baseline ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a JSON object with {', '.join(FIGURES)}")
    values: dict[str, float | None] = {}
    for key in FIGURES:
        value = doc.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"{path}: field {key!r}: expected a number")
        values[key] = None if value is None else float(value)
    runs = doc.get("runs", 1)
    return Figures(
        float(runs) if isinstance(runs, (int, float)) else 1.0,
        values["p95_latency_s"],
        values["error_rate"],
        values["cost_per_run_usd"],
    )
