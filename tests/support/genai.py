"""What launcher-based tests share about the GenAI instrumentations the genai-tests extra installs."""

from __future__ import annotations

from typing import Final

# opentelemetry-instrument loads every installed instrumentation; with the genai-tests extra these
# import openai, anthropic, langchain and the agents SDK, about 10 s of CPU per process. Servers that
# do not test them disable them (entry point names; "openai" covers OpenLLMetry's and openai-v2).
GENAI_INSTRUMENTORS: Final = "openai,anthropic,langchain,openai_agents"
DISABLE_GENAI_INSTRUMENTORS: Final = {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": GENAI_INSTRUMENTORS}
