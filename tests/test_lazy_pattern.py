"""lazy_pattern: a module-level regular expression compiled on first use, same behaviour."""

from __future__ import annotations

import re

from llmkit._lazy import _LazyPattern, lazy_pattern


def test_a_lazy_pattern_is_compiled_on_first_use_and_behaves_as_compiled() -> None:
    lazy = lazy_pattern(r"(?P<key>\w+):\s*(\d+)", re.ASCII)
    eager = re.compile(r"(?P<key>\w+):\s*(\d+)", re.ASCII)
    assert isinstance(lazy, _LazyPattern)
    assert "match" not in vars(lazy)  # nothing compiled yet
    text = "a: 1, bb: 22, é: 3"
    assert lazy.match(text).group("key") == eager.match(text).group("key")  # type: ignore[union-attr]
    assert "match" in vars(lazy)  # bound once: later calls skip __getattr__
    assert lazy.findall(text) == eager.findall(text)
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in eager.finditer(text)]
    assert lazy.sub("x", text) == eager.sub("x", text)
    assert lazy.split(text) == eager.split(text)
    assert lazy.fullmatch("k: 9") is not None and lazy.search("-- k: 9") is not None
    assert (lazy.pattern, lazy.flags, lazy.groups, lazy.groupindex) == (
        eager.pattern,
        eager.flags,
        eager.groups,
        eager.groupindex,
    )
