"""Inline SVG for the UI: a trace waterfall, the agent graph and line charts (no script, no assets)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from otel_agents.api import _semconv as semconv
from otel_agents.store._figures import fmt_duration
from otel_agents.store._graph import Graph
from otel_agents.ui._format import e

ROW: Final = 22
LABEL_W: Final = 330
BAR_W: Final = 560
_ERROR: Final = 2


def span_class(span: Mapping[str, Any]) -> str:
    """The CSS class of a span's bar: by operation, ``error`` when it failed."""
    if span["status_code"] == _ERROR:
        return "bar error"
    op = span.get("operation") or ""
    if op == semconv.OP_INVOKE_WORKFLOW:
        return "bar workflow"
    if op == semconv.OP_INVOKE_AGENT:
        return "bar agent"
    if op == semconv.OP_EXECUTE_TOOL:
        return "bar tool"
    if span.get("model"):
        return "bar llm"
    if str(span.get("name", "")).startswith(semconv.SPAN_ROUTE.format("")):
        return "bar route"
    return "bar other"


def waterfall(rows: Sequence[tuple[Mapping[str, Any], int]], anchor: str) -> str:
    """Spans (with their depth, in tree order) as labelled bars on one time axis.

    Each row links to the span's details (``#{anchor}-{span_id}``).
    """
    if not rows:
        return ""
    t0 = min(int(s["start_ns"]) for s, _ in rows)
    t1 = max(int(s["end_ns"]) for s, _ in rows)
    total = max(t1 - t0, 1)
    height = ROW * (len(rows) + 1)
    width = LABEL_W + BAR_W + 130
    out = [
        f'<svg class="waterfall" role="img" aria-label="waterfall" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i in range(5):
        x = LABEL_W + BAR_W * i / 4
        out.append(f'<line class="tick" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}"/>')
        out.append(
            f'<text class="axis" x="{x + 2:.1f}" y="{height - 6}">{e(fmt_duration(total * i / 4))}</text>'
        )
    for n, (span, depth) in enumerate(rows):
        y = n * ROW
        start = (int(span["start_ns"]) - t0) / total * BAR_W
        length = max(int(span["duration_ns"]) / total * BAR_W, 1.5)
        label = str(span["name"])
        if len(label) > 44 - depth:
            label = label[: max(43 - depth, 8)] + "…"
        status = " ERROR" if span["status_code"] == _ERROR else ""
        out.append(f'<a href="#{e(anchor)}-{e(span["span_id"])}">')
        out.append(f"<title>{e(span['name'])}: {e(fmt_duration(span['duration_ns']))}{status}</title>")
        out.append(f'<text class="label" x="{4 + depth * 12}" y="{y + 15}">{e(label)}</text>')
        out.append(
            f'<rect class="{span_class(span)}" x="{LABEL_W + start:.1f}" y="{y + 4}"'
            f' width="{length:.1f}" height="{ROW - 8}" rx="2"/>'
        )
        out.append(
            f'<text class="dur{" err" if status else ""}" x="{min(LABEL_W + start + length + 4, LABEL_W + BAR_W + 4):.1f}"'
            f' y="{y + 15}">{e(fmt_duration(span["duration_ns"]))}{status}</text>'
        )
        out.append("</a>")
    out.append("</svg>")
    return "".join(out)


def _layers(graph: Graph) -> dict[str, int]:
    """Each node's column: its longest distance from an entry agent (cycles cut)."""
    targets = {edge.target for edge in graph.edges}
    roots = [n for n in graph.nodes if n not in targets] or list(graph.nodes)[:1]
    depth = dict.fromkeys(roots, 0)
    frontier = list(roots)
    for _ in range(len(graph.nodes)):
        nxt = []
        for edge in graph.edges:
            step = depth.get(edge.source, 0) + 1
            if edge.source in frontier and depth.get(edge.target, -1) < step < len(graph.nodes):
                depth[edge.target] = step
                nxt.append(edge.target)
        if not nxt:
            break
        frontier = nxt
    for name in graph.nodes:
        depth.setdefault(name, 0)
    return depth


@dataclass(frozen=True)
class _Box:
    x: float
    y: float


def agent_graph(graph: Graph) -> str:
    """Agents as boxes in columns by routing depth; one labelled arrow per (source, target)."""
    if not graph.nodes:
        return ""
    layer = _layers(graph)
    columns: dict[int, list[str]] = {}
    for name in graph.nodes:
        columns.setdefault(layer[name], []).append(name)
    box_w, box_h, gap_x, gap_y = 190, 54, 250, 40
    boxes: dict[str, _Box] = {}
    for col, names in columns.items():
        for i, name in enumerate(names):
            boxes[name] = _Box(20 + col * (box_w + gap_x), 30 + i * (box_h + gap_y))
    width = int(max(b.x for b in boxes.values()) + box_w + 40)
    height = int(max(b.y for b in boxes.values()) + box_h + 40)
    out = [
        f'<svg class="graph" role="img" aria-label="agent graph" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8"'
        ' orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>',
    ]
    for n, edge in enumerate(graph.edges):
        a, b = boxes[edge.source], boxes[edge.target]
        x1, y1 = a.x + box_w, a.y + box_h / 2
        x2, y2 = b.x, b.y + box_h / 2
        if edge.source == edge.target or x2 <= x1:
            # Back or self edge: loop over the top.
            top = min(a.y, b.y) - 18 - 6 * n
            path = f"M {a.x + box_w / 2} {a.y} C {a.x + box_w / 2} {top}, {b.x + box_w / 2} {top}, {b.x + box_w / 2} {b.y}"
            lx, ly = (a.x + b.x + box_w) / 2, top + 4
        else:
            mid = (x1 + x2) / 2
            path = f"M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}"
            lx, ly = mid, (y1 + y2) / 2 - 6
        cls = "edge error" if edge.errors else "edge"
        p95 = f" · p95 {fmt_duration(edge.p95_ns)}" if edge.p95_ns is not None else ""
        label = f"{edge.count:,} hand-off{'' if edge.count == 1 else 's'} · {edge.error_rate:.0%} err{p95}"
        out.append(
            f'<g class="edge-group" data-source="{e(edge.source)}" data-target="{e(edge.target)}"'
            f' data-count="{edge.count}"><title>{e(edge.source)} → {e(edge.target)}: {e(label)}</title>'
            f'<path class="{cls}" d="{path}" marker-end="url(#arrow)"/>'
            f'<text class="edge-label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle">{e(label)}</text></g>'
        )
    for name, node in graph.nodes.items():
        b = boxes[name]
        cls = "node error" if node.errors else "node"
        shown = name if len(name) <= 24 else name[:23] + "…"
        calls = f"{node.calls:,} calls · {node.errors:,} err" if node.calls else "no invocations"
        out.append(
            f'<g class="node-group"><title>{e(name)}</title>'
            f'<rect class="{cls}" x="{b.x}" y="{b.y}" width="{box_w}" height="{box_h}" rx="8"/>'
            f'<text class="node-name" x="{b.x + box_w / 2}" y="{b.y + 22}" text-anchor="middle">{e(shown)}</text>'
            f'<text class="node-stats" x="{b.x + box_w / 2}" y="{b.y + 40}" text-anchor="middle">{e(calls)}</text>'
            "</g>"
        )
    out.append("</svg>")
    return "".join(out)


_PALETTE: Final = 6


def line_chart(
    title: str,
    times: Sequence[int],
    series: Mapping[str, Sequence[float | None]],
    fmt: Any,
) -> str:
    """One chart: a polyline per series over ``times`` (ns), y from 0 to the largest value."""
    width, height, left, bottom, top = 620, 200, 70, 26, 24
    plot_w, plot_h = width - left - 150, height - bottom - top
    values = [v for vs in series.values() for v in vs if v is not None]
    peak = max(values) if values else 0.0
    peak = peak or 1.0
    out = [
        f'<svg class="chart" role="img" aria-label="{e(title)}" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text class="chart-title" x="{left}" y="14">{e(title)}</text>',
    ]
    for i in range(3):
        y = top + plot_h * i / 2
        out.append(f'<line class="tick" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>')
        out.append(
            f'<text class="axis" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{e(fmt(peak * (1 - i / 2)))}</text>'
        )
    n = len(times)
    for i, t in enumerate(times):
        if n <= 1 or i in (0, n - 1) or i == n // 2:
            x = left + (plot_w * i / max(n - 1, 1))
            out.append(
                f'<text class="axis" x="{x:.1f}" y="{height - 8}" text-anchor="middle">{e(_clock(t))}</text>'
            )
    for k, (name, vs) in enumerate(series.items()):
        points = []
        for i, v in enumerate(vs):
            if v is None:
                continue
            x = left + (plot_w * i / max(n - 1, 1)) if n > 1 else left + plot_w / 2
            y = top + plot_h * (1 - v / peak)
            points.append(f"{x:.1f},{y:.1f}")
        cls = f"series s{k % _PALETTE}"
        if len(points) == 1:
            cx, cy = points[0].split(",")
            out.append(f'<circle class="dot s{k % _PALETTE}" cx="{cx}" cy="{cy}" r="4"/>')
        elif points:
            out.append(f'<polyline class="{cls}" points="{" ".join(points)}"/>')
        out.append(
            f'<rect class="swatch s{k % _PALETTE}" x="{left + plot_w + 14}" y="{top + k * 16 - 8}" width="10" height="10"/>'
        )
        shown = name if len(name) <= 18 else name[:17] + "…"
        out.append(f'<text class="legend" x="{left + plot_w + 28}" y="{top + k * 16 + 1}">{e(shown)}</text>')
    out.append("</svg>")
    return "".join(out)


def _clock(ns: int) -> str:
    from otel_agents.ui._format import fmt_time

    text = fmt_time(ns)
    return text[5:16] if len(text) >= 16 else text


def nice_ms(value: float) -> str:
    """Milliseconds for a chart axis."""
    return fmt_duration(value * 1e6)


def nice_number(value: float) -> str:
    """A compact count for a chart axis."""
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2f}"


def nice_cost(value: float) -> str:
    """Dollars for a chart axis."""
    return f"${value:.4f}" if value < 1 else f"${value:.2f}"
