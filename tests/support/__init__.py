"""Helpers shared by the test suites (real receivers, not mocks)."""
