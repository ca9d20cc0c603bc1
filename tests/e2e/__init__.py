"""End-to-end tests against real collector, Jaeger and Prometheus processes."""
