"""URL credentials hidden from output: ``user:password@`` (or a bare ``token@``) becomes ``***@``."""

from __future__ import annotations

import re
from typing import Final

# After a scheme, anywhere in a value such as a list of URLs or an exception's message.
_USERINFO: Final = re.compile(r"(?<=://)[^/@\s]+@")


def masked(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***@``, for printing."""
    return _USERINFO.sub("***@", text)
