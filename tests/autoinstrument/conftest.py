"""The launcher tests start real servers with the integration tests' harness and fixtures."""

from tests.integrations.conftest import receiver, servers

__all__ = ["receiver", "servers"]
