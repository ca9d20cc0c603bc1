"""The fake provider servers answer the real openai and anthropic clients in JSON and SSE."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_llm import FakeAnthropic, FakeOpenAI, Reply

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(lambda body: Reply(text="hello there", input_tokens=12, output_tokens=3))
    yield server
    server.close()


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic(lambda body: Reply(text="hi you", input_tokens=9, output_tokens=2))
    yield server
    server.close()


def test_openai_json_and_stream(fake_openai: FakeOpenAI) -> None:
    """The openai client parses the fake's JSON reply and its SSE stream with the usage chunk."""
    client = openai.OpenAI(base_url=fake_openai.url + "/v1", api_key="sk-test")
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "q"}])
    assert reply.choices[0].message.content == "hello there"
    assert reply.usage is not None and reply.usage.prompt_tokens == 12
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "q"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.split() == ["hello", "there"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3
    assert fake_openai.requests[1].body["stream_options"] == {"include_usage": True}


def test_anthropic_json_and_stream(fake_anthropic: FakeAnthropic) -> None:
    """The anthropic client parses the fake's message JSON and its SSE event stream."""
    client = anthropic.Anthropic(base_url=fake_anthropic.url, api_key="sk-ant-test")
    message = client.messages.create(
        model="claude-3-5-sonnet-20241022", max_tokens=50, messages=[{"role": "user", "content": "q"}]
    )
    assert message.content[0].text == "hi you"
    assert message.usage.input_tokens == 9
    with client.messages.stream(
        model="claude-3-5-sonnet-20241022", max_tokens=50, messages=[{"role": "user", "content": "q"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.split() == ["hi", "you"]
    assert final.usage.output_tokens == 2
