"""A ``requests`` session for OTLP/HTTP exporters that never reuses a connection from another process."""

from __future__ import annotations

import os
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from otel_agents.sdk import _failed_exports


class ForkSafeSession(requests.Session):
    """After ``fork()``, the child drops the pooled connections it inherited and opens its own.

    With gunicorn ``--preload`` the master's exporters may already hold a keep-alive connection
    when a worker is forked; two processes writing to one socket corrupt both streams.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pid = os.getpid()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """``requests.Session.request``, on fresh connection pools in a forked child."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            # Closing the inherited pools would be harmless but is pointless: just stop using them.
            for prefix in list(self.adapters):
                self.mount(prefix, HTTPAdapter())
        try:
            return super().request(method, url, *args, **kwargs)
        except BaseException as exc:
            # The exporter keeps it in a reference cycle with the batch: freed after the export.
            _failed_exports.note(exc)
            raise

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        """As ``requests``, except that the exporter's CA file beats ``REQUESTS_CA_BUNDLE`` and co."""
        settings: Any = super().merge_environment_settings(url, proxies, stream, verify, cert)
        # requests prefers those variables over session.verify; OTEL_EXPORTER_OTLP_CERTIFICATE is the
        # more specific setting and must win, as the OTel spec says.
        if verify is None and isinstance(self.verify, str):
            settings["verify"] = self.verify
        return settings


def session_for(signal: str) -> ForkSafeSession | None:
    """A fork-safe session for ``signal``, unless a credential provider variable supplies the session."""
    for variable in (
        "OTEL_PYTHON_EXPORTER_OTLP_HTTP_CREDENTIAL_PROVIDER",
        f"OTEL_PYTHON_EXPORTER_OTLP_HTTP_{signal.upper()}_CREDENTIAL_PROVIDER",
    ):
        if os.environ.get(variable):
            return None
    return ForkSafeSession()
