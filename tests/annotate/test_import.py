"""Conversations in: whole-file validation, all-or-nothing, redaction, the call log."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from llmkit.annotate import (
    AnnotationError,
    ImportDataError,
    Store,
    conversations_from_log,
    import_jsonl,
    import_log,
    redact_text,
)


def _write(path: Path, objs: list[Any]) -> Path:
    path.write_text(
        "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n",
        encoding="utf-8",
    )
    return path


def test_import_stores_messages_metadata_and_gold(
    store: Store, tmp_path: Path, conversation: Any
) -> None:
    lines = [conversation(f"c{i}", model="m1", band="<1s") for i in range(5)]
    lines[2]["gold"] = {"hallucination": "no"}
    result = import_jsonl(store, _write(tmp_path / "in.jsonl", lines))
    assert (result.imported, store.count("items")) == (5, 5)
    got = store.conversation("c2")
    assert got.messages[1] == {"role": "assistant", "content": "answer c2"}
    assert got.metadata == {"model": "m1", "band": "<1s"}
    assert got.gold == {"hallucination": "no"}
    assert store.gold() == {"c2": {"hallucination": "no"}}


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("{not json", "malformed JSON"),
        ({"id": "x", "messages": [{"role": "user", "content": "q"}], "extra": 1}, "unknown field"),
        ({"id": "x", "messages": []}, "messages must be a non-empty list"),
        ({"id": "x", "messages": [{"role": "robot", "content": "q"}]}, "role must be"),
        ({"id": "x", "messages": [{"role": "user", "content": 3}]}, "content must be a string"),
        ({"id": "x", "messages": [{"role": "user", "content": "q", "x": 1}]}, "unknown field"),
        ({"id": "", "messages": [{"role": "user", "content": "q"}]}, "id must be"),
        ({"id": True, "messages": [{"role": "user", "content": "q"}]}, "id must be"),
        ({"id": "x", "messages": [{"role": "user", "content": "q"}], "metadata": []}, "metadata"),
        ('{"id": "x", "messages": [{"role": "user", "content": NaN}]}', "malformed JSON"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_a_bad_line_rejects_the_whole_file_naming_it(
    store: Store, tmp_path: Path, conversation: Any, bad: Any, words: str
) -> None:
    lines = [conversation("a"), conversation("b"), "", bad, conversation("c")]
    path = _write(tmp_path / "bad.jsonl", lines)
    with pytest.raises(ImportDataError) as info:
        import_jsonl(store, path)
    assert info.value.line == 4
    assert words in str(info.value)
    assert str(info.value).startswith(f"{path}:4:")
    assert store.count("items") == 0  # nothing half-imported


def test_duplicate_ids_in_file_and_store(store: Store, tmp_path: Path, conversation: Any) -> None:
    path = _write(tmp_path / "dup.jsonl", [conversation("a"), conversation("b"), conversation("a")])
    with pytest.raises(ImportDataError, match="repeats line 1") as info:
        import_jsonl(store, path)
    assert info.value.line == 3
    assert store.count("items") == 0
    import_jsonl(store, _write(tmp_path / "one.jsonl", [conversation("a")]))
    again = _write(tmp_path / "two.jsonl", [conversation("z"), conversation("a")])
    with pytest.raises(AnnotationError, match="already imported"):
        import_jsonl(store, again)
    assert store.item_ids() == {"a"}  # z was not inserted either


def test_redaction_of_emails_and_phones(store: Store) -> None:
    text, n = redact_text(
        "Write to ada.lovelace+work@example.co.uk or call (415) 555-0100 / +44 20 7946 0958."
    )
    assert text == "Write to [EMAIL] or call [PHONE] / [PHONE]."
    assert n == 3
    kept = "Order ORD-123456 on 2026-11-30, version 1.10, 3.14 15.92, 12 items"
    assert redact_text(kept) == (kept, 0)
    line = json.dumps(
        {
            "id": "p1",
            "messages": [{"role": "user", "content": "I am bob@example.com, +1 212 555 0199"}],
            "metadata": {"contact": "bob@example.com"},
        }
    )
    result = import_jsonl(store, io.StringIO(line), redact=True, name="s.jsonl")
    assert result.redacted == 3
    got = store.conversation("p1")
    assert got.messages[0]["content"] == "I am [EMAIL], [PHONE]"
    assert got.metadata == {"contact": "[EMAIL]"}


def test_import_from_the_call_log(store: Store, tmp_path: Path, engine: Any) -> None:
    from llmkit.llm import Client, read_log

    log = tmp_path / "calls.db"
    with Client(base_url=engine.base_url, model=engine.config.model, log=log) as client:
        client.chat("Hello there, what can you do?", max_tokens=20)
        client.chat(
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "ping"}]
        )
    found = conversations_from_log(read_log(log))
    assert len(found) == 2
    assert found[1].messages == (
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "ping"},
        {"role": "assistant", "content": "pong"},
    )
    assert found[0].metadata["model"] == engine.config.model
    assert found[0].metadata["latency_band"] == "<1s"
    first = import_log(store, log)
    assert (first.imported, first.skipped) == (2, 0)
    second = import_log(store, log)  # a rerun picks up only new calls
    assert (second.imported, second.skipped) == (0, 2)
    assert store.count("items") == 2
    with pytest.raises(AnnotationError, match="no call log"):
        import_log(store, tmp_path / "missing.db")
