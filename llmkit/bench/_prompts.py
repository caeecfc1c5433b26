"""Where request messages come from: synthetic prompts of N tokens, JSONL files, templates.

Everything here runs *before* a level starts (bodies are pre-built and serialized), so
building prompts never delays a request past its scheduled send time.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from llmkit._exceptions import ConfigError
from llmkit._jsonl import json_lines

__all__ = ["PromptSource", "synthetic_text"]

Messages = list[dict[str, Any]]

# Common English words that are each one cl100k token with a leading space, so that a
# prompt of N of them is N tokens (checked by a test) and reads like text to any tokenizer.
_WORD_TEXT = (
    "the of and to in is was for on that with as by at from his it an were are which this "
    "be or has had one first their its new after who they have her she two been other when "
    "there all during into school time may years more most only over city some world would "
    "where later up such used many can state about national out known university united "
    "then made year before while under team three war both city through also will between "
    "well system people number history well part game series called county long group end "
    "music over house family water light river power north south east west small great "
    "high year work life day back good play name little place line last right home show "
    "side land road same company field book early river front story money market point "
    "country music paper party order heart class table summer winter spring garden window"
)
_WORDS = _WORD_TEXT.split()


@functools.cache
def _one_token_words() -> tuple[str, ...]:
    from llmkit._tokens import count_tokens

    return tuple(sorted({w for w in _WORDS if count_tokens(" " + w) == 1}))


def synthetic_text(n_tokens: int, rng: random.Random) -> str:
    """Text of ``n_tokens`` cl100k tokens made of random common words."""
    words = _one_token_words()
    return "".join(" " + w for w in rng.choices(words, k=n_tokens))


def _to_messages(item: Any, where: str) -> Messages:
    if isinstance(item, str):
        return [{"role": "user", "content": item}]
    if isinstance(item, dict):
        if "messages" in item:
            item = item["messages"]
        elif "prompt" in item and isinstance(item["prompt"], str):
            return [{"role": "user", "content": item["prompt"]}]
    if (
        isinstance(item, list)
        and item
        and all(isinstance(m, dict) and "role" in m and "content" in m for m in item)
    ):
        return [dict(m) for m in item]
    raise ConfigError(
        f"{where}: expected chat messages, {{'messages': [...]}} or {{'prompt': ...}}"
    )


def _load_file(path: str) -> list[Messages]:
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read --prompt-file {path!r}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"--prompt-file {path!r} is not UTF-8 text (byte {exc.start}): expected JSONL"
        ) from None
    out: list[Messages] = []
    for where, item in json_lines(lines, path):
        out.append(_to_messages(item, where))
    if not out:
        raise ConfigError(f"--prompt-file {path!r} holds no prompts")
    return out


def _load_template(name: str, variables: Mapping[str, str]) -> Messages:
    try:
        from llmkit.prompts import load_prompt
    except ImportError:
        raise ConfigError(
            "--prompt-template needs llmkit.prompts, which is not installed"
        ) from None
    try:
        rendered: Any = load_prompt(name).render(**variables)
    except Exception as exc:
        raise ConfigError(f"cannot render template {name!r}: {exc}") from None
    if hasattr(rendered, "messages"):
        rendered = rendered.messages
    return _to_messages(rendered, f"template {name!r}")


class PromptSource:
    """Deterministic request messages: ``messages(i)`` is the same for a given seed.

    Args:
        prompt_tokens: synthetic prompt length, used when no file or template is given.
        prompt_file: JSONL of chat messages, cycled in order.
        template: a template name from ``prompts/`` rendered with ``template_vars``.
        random_prefix: put a unique random line first, so no two requests share a prefix
            that a server could cache.
        seed: makes synthetic text and prefixes reproducible.
    """

    def __init__(
        self,
        *,
        prompt_tokens: int,
        prompt_file: str | None = None,
        template: str | None = None,
        template_vars: Mapping[str, str] | None = None,
        random_prefix: bool = False,
        seed: int = 0,
        count: Callable[[str], int] | None = None,
    ) -> None:
        self.prompt_tokens = prompt_tokens
        self.random_prefix = random_prefix
        self.seed = seed
        self._fixed: list[Messages] | None = None
        if prompt_file is not None:
            self._fixed = _load_file(prompt_file)
        elif template is not None:
            self._fixed = [_load_template(template, template_vars or {})]
        self._count = count

    @property
    def synthetic(self) -> bool:
        return self._fixed is None

    def messages(self, i: int, salt: int = 0) -> tuple[Messages, int | None]:
        """The messages of request ``i`` and their token count as sent (approximate)."""
        rng = random.Random(hash((self.seed, salt, i)))
        if self._fixed is None:
            text = synthetic_text(self.prompt_tokens, rng).lstrip()
            msgs: Messages = [{"role": "user", "content": text}]
            tokens: int | None = self.prompt_tokens
        else:
            msgs = [dict(m) for m in self._fixed[i % len(self._fixed)]]
            tokens = self._tokens_of(msgs)
        if self.random_prefix:
            prefix = f"[{rng.getrandbits(64):016x}{synthetic_text(8, rng)}]\n"
            first = msgs[0]
            if isinstance(first.get("content"), str):
                first["content"] = prefix + first["content"]
            else:
                msgs.insert(0, {"role": "system", "content": prefix})
            if tokens is not None and self._count is not None:
                tokens += self._count(prefix)
        return msgs, tokens

    def _tokens_of(self, msgs: Messages) -> int | None:
        if self._count is None:
            return None
        return sum(self._count(m["content"]) for m in msgs if isinstance(m.get("content"), str))
