"""Scenario files: the shipped default, custom files, placeholders, clear errors."""

from __future__ import annotations

import importlib
import random
from pathlib import Path

import pytest
import yaml

import llmkit.engine
from llmkit._exceptions import ConfigError
from llmkit.engine import load_scenario
from llmkit.engine._tokencache import tokenize_text

from ._http import chat, request

_MODULES = [
    "_config",
    "_handles",
    "_malform",
    "_protocol",
    "_scenarios",
    "_scheduler",
    "_sendlog",
    "_server",
    "_tokencache",
]


def _isort_style(names: list[str]) -> list[str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    return sorted(names, key=lambda n: (not n.isupper(), not n[:1].isupper(), n))


def test_public_api_is_sorted_and_complete() -> None:
    assert llmkit.engine.__all__ == _isort_style(llmkit.engine.__all__)
    for name in llmkit.engine.__all__:
        assert getattr(llmkit.engine, name) is not None
    for mod in _MODULES:
        module = importlib.import_module(f"llmkit.engine.{mod}")
        assert module.__all__ == _isort_style(module.__all__), mod
        for name in module.__all__:
            assert hasattr(module, name), (mod, name)


def test_default_scenario_rules() -> None:
    s = load_scenario()
    names = [r.name for r in s.rules]
    assert {"ticket-yaml", "ticket-json", "chat", "thinking", "ping"} <= set(names)
    assert s.rule("ticket-yaml").schema is not None
    rng = random.Random(1)
    assert s.answer(rng, model="m", endpoint="chat", user="Give YAML").format == "yaml"
    assert s.answer(rng, model="m", endpoint="chat", user="Give JSON").format == "json"
    assert s.answer(rng, model="m", endpoint="chat", user="hello").format == "text"


def test_yaml_answers_follow_their_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    s = load_scenario()
    for i in range(30):
        a = s.answer(random.Random(i), model="m", endpoint="chat", user="as YAML please")
        jsonschema.validate(yaml.safe_load(a.content), dict(s.rule("ticket-yaml").schema or {}))


def test_custom_scenario_with_placeholders(make_engine: object, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "pools": {"color": ["red", "green", "blue"]},
                "rules": [
                    {
                        "name": "colors",
                        "match": {"user": "(?i)color"},
                        "answers": [
                            "{{color#a}} {{color#a}} {{color}} {{int 5 5}} {{digits 3}} {{choice x|y}} {{echo 2}}"
                        ],
                    },
                    {"name": "other-model", "match": {"model": "^big$"}, "answers": ["big answer"]},
                    {"name": "fallback", "answers": ["plain"]},
                ],
            }
        )
    )
    eng = make_engine(scenario=path, aliases=("big",))  # type: ignore[operator]
    reply = request(eng, "/chat/completions", chat(eng, "Color me happy"))
    words = reply.json()["choices"][0]["message"]["content"].split()
    assert words[0] == words[1] != words[2] and words[3] == "5" and len(words[4]) == 3
    assert words[5] in ("x", "y") and words[6:] == ["Color", "me"]
    assert reply.headers["x-llmkit-rule"] == "colors"
    big = request(eng, "/chat/completions", {**chat(eng, "hi"), "model": "big"}).json()
    assert big["choices"][0]["message"]["content"] == "big answer"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("rules: []", "non-empty"),
        ("- just a list", "mapping"),
        ("rules: [{match: {user: '('}, answers: [x]}]", "bad regex"),
        ("rules: [{match: {color: x}, answers: [x]}]", "unknown match keys"),
        ("rules: [{answers: ['{{nope}}']}]", "unknown pool"),
        ("rules: [{answers: ['{{int 1}}']}]", "wrong number"),
        ("rules: [{name: r}]", "at least one answer"),
        ("rules: [{answers: [x], format: xml}]", "format"),
        ("rules: [: bad", "not valid YAML"),
    ],
)
def test_bad_scenarios_are_config_errors(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_scenario(path)


def test_missing_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read scenario"):
        load_scenario(tmp_path / "nope.yaml")


def test_tokenized_units_are_whole_characters() -> None:
    t = tokenize_text("naïve café 🎉🎊 日本")
    assert "".join(t.raw) == t.text and sum(t.tokens) == t.total
    assert all("\ufffd" not in r for r in t.raw)
    assert tokenize_text("naïve café 🎉🎊 日本") is t  # cached
