"""Conversations in: JSONL files and the call log, validated whole before anything is stored.

One conversation per line::

    {"id": "c-001", "messages": [{"role": "user", "content": "..."}, ...],
     "metadata": {"model": "...", "prompt_version": "2"}, "gold": {"hallucination": "no"}}

``metadata`` and ``gold`` are optional; a pairwise A/B item adds ``alternatives``:
``{"A": "first answer", "B": "second answer"}``. A malformed line, an unknown field or a repeated id
rejects the whole file with the line named; the store then inserts every conversation in
one transaction, so an import is all or nothing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from llmkit._redact import redact_text as redact_credentials
from llmkit.annotate._store import AnnotationError, Conversation, Store, records

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ImportDataError",
    "ImportResult",
    "conversations_from_log",
    "import_jsonl",
    "import_log",
    "latency_band",
    "read_conversations",
    "redact_text",
]

FIELDS = frozenset({"id", "messages", "metadata", "gold", "alternatives"})
MESSAGE_FIELDS = frozenset({"role", "content", "name"})
ROLES = frozenset({"system", "user", "assistant", "tool", "developer"})
MAX_ID = 200

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
# A phone number: optional +country code, then 2-5 groups of digits split by a space, dot,
# dash or parentheses. Checked afterwards: 9-15 digits (7+ with a +), and not a date.
_PHONE = re.compile(
    r"(?<![\w+.-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?![\w-]|\.\d)"
)
_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{4}$")


class ImportDataError(AnnotationError):
    """An import file is invalid; nothing was imported.

    Attributes:
        source: the file name.
        line: the 1-based line at fault.
        problem: what is wrong there.
    """

    def __init__(self, problem: str, *, source: str, line: int) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        super().__init__(f"{source}:{line}: {problem}; nothing was imported")


@dataclass(frozen=True)
class ImportResult:
    """What an import did.

    Attributes:
        source: file name or ``call-log``.
        imported: conversations stored.
        skipped: conversations already stored (call-log imports only skip; files reject).
        redacted: e-mail addresses and phone numbers replaced.
    """

    source: str
    imported: int
    skipped: int = 0
    redacted: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The counts as plain JSON-ready data."""
        return {
            "source": self.source,
            "imported": self.imported,
            "skipped": self.skipped,
            "redacted": self.redacted,
        }


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    wanted = 7 if text.startswith("+") else 9
    if digits < wanted or digits > 15 or _DATE.match(text):
        return text
    return "[PHONE]"


def redact_text(text: str) -> tuple[str, int]:
    """Replace e-mail addresses with ``[EMAIL]`` and phone numbers with ``[PHONE]``.

    >>> redact_text("mail ada@example.com or call +44 20 7946 0958 by 2026-11-30")
    ('mail [EMAIL] or call [PHONE] by 2026-11-30', 2)
    """
    text, emails = _EMAIL.subn("[EMAIL]", text)
    count = 0

    def phone(match: re.Match[str]) -> str:
        nonlocal count
        out = _phone(match)
        count += out == "[PHONE]"
        return out

    text = _PHONE.sub(phone, text)
    return text, emails + count


def _without_credentials(text: str) -> tuple[str, int]:
    clean = redact_credentials(text)
    return clean, int(clean != text)


def _redact_value(value: Any, redact: Callable[[str], tuple[str, int]]) -> tuple[Any, int]:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        pairs = [_redact_value(v, redact) for v in value]
        return [p[0] for p in pairs], sum(p[1] for p in pairs)
    if isinstance(value, dict):
        out, total = {}, 0
        for key, v in value.items():
            out[key], n = _redact_value(v, redact)
            total += n
        return out, total
    return value, 0


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not valid JSON")


def _conversation(obj: Any, where: str, line: int) -> Conversation:
    def bad(problem: str) -> ImportDataError:
        return ImportDataError(problem, source=where, line=line)

    if not isinstance(obj, dict):
        raise bad("a line must be a JSON object with id and messages")
    unknown = sorted(set(obj) - FIELDS)
    if unknown:
        raise bad(f"unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(FIELDS))})")
    raw_id = obj.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        raise bad("id must be a string or an integer")
    item_id = str(raw_id).strip()
    if not item_id or len(item_id) > MAX_ID or any(ord(c) < 32 for c in item_id):
        raise bad(f"id must be 1-{MAX_ID} printable characters")
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad("messages must be a non-empty list")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise bad(f"messages[{i}] must be an object with role and content")
        extra = sorted(set(msg) - MESSAGE_FIELDS)
        if extra:
            raise bad(f"messages[{i}] has unknown field(s) {', '.join(extra)}")
        if msg.get("role") not in ROLES:
            raise bad(f"messages[{i}].role must be one of {', '.join(sorted(ROLES))}")
        if not isinstance(msg.get("content"), str):
            raise bad(f"messages[{i}].content must be a string")
    metadata = obj.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise bad("metadata must be an object")
    gold = obj.get("gold", {}) or {}
    if not isinstance(gold, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float) and not isinstance(v, bool)
        for k, v in gold.items()
    ):
        raise bad("gold must map dimension names to values")
    alternatives = obj.get("alternatives") or {}
    if alternatives and (
        not isinstance(alternatives, dict)
        or set(alternatives) != {"A", "B"}
        or not all(isinstance(v, str) for v in alternatives.values())
    ):
        raise bad('alternatives must be {"A": text, "B": text} (pairwise items)')
    return Conversation(
        id=item_id,
        messages=tuple(messages),
        metadata=metadata,
        gold={k: str(v) for k, v in gold.items()},
        alternatives=dict(alternatives),
    )


def read_conversations(
    source: str | Path | TextIO | Iterable[str], *, name: str | None = None
) -> list[Conversation]:
    """Parse and validate conversation JSONL (blank lines are skipped).

    Raises:
        ImportDataError: the first bad line (bad JSON, unknown field, repeated id...).
    """
    if isinstance(source, str | Path):
        where = name or str(source)
        try:
            lines: Iterable[str] = Path(source).read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as exc:
            raise ImportDataError(f"not UTF-8 ({exc.reason})", source=where, line=1) from None
        except OSError as exc:
            raise AnnotationError(f"cannot read {where}: {exc.strerror or exc}") from None
    else:
        where = name or str(getattr(source, "name", "<stdin>"))
        lines = source
    seen: dict[str, int] = {}
    out: list[Conversation] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text, parse_constant=_reject_constant)
        except (json.JSONDecodeError, ValueError) as exc:
            raise ImportDataError(f"malformed JSON ({exc})", source=where, line=number) from None
        conversation = _conversation(obj, where, number)
        if conversation.id in seen:
            raise ImportDataError(
                f"id {conversation.id!r} repeats line {seen[conversation.id]}",
                source=where,
                line=number,
            )
        seen[conversation.id] = number
        out.append(conversation)
    if not out:
        raise ImportDataError("no conversations in the file", source=where, line=1)
    return out


def _redact_all(
    conversations: list[Conversation], redact: Callable[[str], tuple[str, int]] = redact_text
) -> tuple[list[Conversation], int]:
    total = 0
    out = []
    for c in conversations:
        messages, n1 = _redact_value([dict(m) for m in c.messages], redact)
        metadata, n2 = _redact_value(c.metadata, redact)
        alternatives, n3 = _redact_value(c.alternatives, redact)
        total += n1 + n2 + n3
        out.append(Conversation(c.id, tuple(messages), metadata, c.gold, alternatives))
    return out, total


def import_jsonl(
    store: Store,
    source: str | Path | TextIO | Iterable[str],
    *,
    redact: bool = False,
    name: str | None = None,
) -> ImportResult:
    """Validate a conversation JSONL file whole, then store it in one transaction.

    Args:
        store: where to import.
        source: a path, an open text file, or lines.
        redact: replace e-mail addresses and phone numbers first.
        name: the source name kept with each item (default: the file name).

    Raises:
        ImportDataError: a bad line, naming it; nothing is stored.
        AnnotationError: an id is already stored; nothing is stored.
    """
    conversations = read_conversations(source, name=name)
    where = name or (str(source) if isinstance(source, str | Path) else "<stream>")
    # Credentials (API keys, URL passwords) are never rating material: always removed.
    conversations, _ = _redact_all(conversations, _without_credentials)
    redacted = 0
    if redact:
        conversations, redacted = _redact_all(conversations)
    store.add_conversations(conversations, source=Path(where).name)
    return ImportResult(source=where, imported=len(conversations), redacted=redacted)


def latency_band(e2e_ms: float | None) -> str:
    """A coarse latency band for stratified sampling: ``<1s``, ``1-3s``, ``3-10s``, ``>10s``."""
    if e2e_ms is None or not math.isfinite(e2e_ms):
        return "unknown"
    if e2e_ms < 1000:
        return "<1s"
    if e2e_ms < 3000:
        return "1-3s"
    if e2e_ms < 10000:
        return "3-10s"
    return ">10s"


def _cell(row: Mapping[str, Any], key: str) -> Any:
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def conversations_from_log(frame: pd.DataFrame) -> list[Conversation]:
    """Conversations from a call-log DataFrame (:func:`llmkit.llm.read_log`).

    Each successful call becomes its request's messages plus the answer. Ids are
    ``call-<log id>``. Metadata carries the model, prompt name and version (when the
    client logged them), structured-output stage, latency band, E2E and finish reason.
    Calls that failed or answered nothing are left out.
    """
    out: list[Conversation] = []
    for row in records(frame):
        text = _cell(row, "response_text")
        if text is None or _cell(row, "error_type") is not None:
            continue
        try:
            request = json.loads(row.get("request_json") or "{}")
        except json.JSONDecodeError:
            continue
        messages = request.get("messages")
        if not isinstance(messages, list):
            prompt = request.get("prompt")
            messages = [{"role": "user", "content": str(prompt)}] if prompt else []
        clean = [
            {"role": str(m.get("role")), "content": str(m.get("content") or "")}
            for m in messages
            if isinstance(m, dict) and m.get("role") in ROLES
        ]
        if not clean:
            continue
        clean.append({"role": "assistant", "content": str(text)})
        e2e = _cell(row, "e2e_ms")
        metadata: dict[str, Any] = {
            "model": _cell(row, "model"),
            "started_at": _cell(row, "started_at"),
            "e2e_ms": e2e,
            "ttft_ms": _cell(row, "ttft_ms"),
            "latency_band": latency_band(None if e2e is None else float(e2e)),
            "finish_reason": _cell(row, "finish_reason"),
            "structured_stage": _cell(row, "structured_stage"),
        }
        for key in ("prompt_name", "prompt_version", "template", "template_version"):
            if _cell(row, key) is not None:
                metadata[key] = _cell(row, key)
        out.append(
            Conversation(
                id=f"call-{row['id']}",
                messages=tuple(clean),
                metadata={k: v for k, v in metadata.items() if v is not None},
            )
        )
    return out


def import_log(
    store: Store, path: str | Path | None = None, *, redact: bool = False
) -> ImportResult:
    """Import the call log's successful calls; calls imported before are skipped.

    Args:
        store: where to import.
        path: the call log file (default: ``$LLMKIT_HOME/calls.db``).
        redact: replace e-mail addresses and phone numbers first.
    """
    from llmkit.llm import default_log_path, read_log

    path = Path(path) if path is not None else default_log_path()
    if not path.exists():  # reading would create an empty log
        raise AnnotationError(f"no call log at {path} (calls are logged with log=True)")
    conversations = conversations_from_log(read_log(path))
    stored = store.item_ids()
    fresh = [c for c in conversations if c.id not in stored]
    fresh, _ = _redact_all(fresh, _without_credentials)
    redacted = 0
    if redact:
        fresh, redacted = _redact_all(fresh)
    store.add_conversations(fresh, source="call-log")
    return ImportResult(
        source="call-log",
        imported=len(fresh),
        skipped=len(conversations) - len(fresh),
        redacted=redacted,
    )
