"""Extras: the module table matches pyproject.toml, and a missing extra is one exact line."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmkit.cli._main import cli
from llmkit.engine import EngineHandle
from llmkit.extras import EXTRAS, MissingExtraError, install_command, require_extra

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
OPTIONAL = PROJECT["optional-dependencies"]


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _distributions(extra: str) -> set[str]:
    """The distributions an extra names, following ``llmkit[...]`` references."""
    names: set[str] = set()
    for requirement in OPTIONAL[extra]:
        if requirement.startswith("llmkit["):
            for inner in requirement[len("llmkit[") : requirement.index("]")].split(","):
                names |= _distributions(inner)
        else:
            names.add(_name(requirement))
    return names


def test_every_extra_in_pyproject_has_its_module_list() -> None:
    assert set(EXTRAS) == set(OPTIONAL) - {"all", "dev", "docs"}  # docs builds the site only
    all_extras = OPTIONAL["all"][0]
    assert set(all_extras[len("llmkit[") : -1].split(",")) == set(EXTRAS) - {"local"}


@pytest.mark.parametrize("extra", sorted(set(EXTRAS) - {"local", "watch"}))
def test_each_listed_module_comes_from_a_distribution_of_its_extra(extra: str) -> None:
    # (local compiles llama.cpp and watch's modules are a namespace: both checked by name)
    by_module = packages_distributions()
    wanted = _distributions(extra)
    for module in EXTRAS[extra]:
        providers = {_name(d) for d in by_module.get(module, [])}
        assert providers & wanted, f"{extra}: {module} comes from {providers}, not {wanted}"


def test_the_base_install_holds_no_extra_module() -> None:
    base = {_name(r) for r in PROJECT["dependencies"]}
    by_module = packages_distributions()
    for extra, modules in EXTRAS.items():
        for module in modules:
            assert not {_name(d) for d in by_module.get(module, [])} & base, (extra, module)


def test_missing_extra_names_the_exact_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vcr", None)  # None in sys.modules: not installed
    with pytest.raises(MissingExtraError) as caught:
        require_extra("llmkit demo", "bench", "annotate", "eval")
    assert str(caught.value) == "llmkit demo needs the eval extra: pip install 'llmkit[eval]'"
    assert isinstance(caught.value, ImportError) and caught.value.extras == ["eval"]
    assert install_command("bench", "plot") == "pip install 'llmkit[bench,plot]'"


@pytest.mark.parametrize(
    ("argv", "blocked", "line"),
    [
        (["bench", "-n", "1"], "msgspec", "llmkit bench needs the bench extra: "
         "pip install 'llmkit[bench]'"),
        (["eval", "x.eval.yaml"], "vcr", "llmkit eval needs the eval extra: "
         "pip install 'llmkit[eval]'"),
        (["annotate", "queue", "ada"], "sqlalchemy", "llmkit annotate needs the annotate "
         "extra: pip install 'llmkit[annotate]'"),
        (["annotate", "serve"], "starlette", "llmkit annotate serve needs the web extra: "
         "pip install 'llmkit[web]'"),
        (["serve"], "aiohttp", "llmkit serve needs the engine extra: "
         "pip install 'llmkit[engine]'"),
        (["demo", "--quick"], "pandas", "llmkit demo needs the bench, annotate and eval "
         "extras: pip install 'llmkit[bench,annotate,eval]'"),
    ],
)  # fmt: skip
def test_a_command_without_its_extra_prints_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], blocked: str, line: str
) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)
    result = CliRunner().invoke(cli, argv)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"error: {line}\n")


def test_bench_plot_note_keeps_the_extra_name(
    monkeypatch: pytest.MonkeyPatch, engine: EngineHandle, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = CliRunner().invoke(
        cli, ["bench", "--base-url", engine.base_url, "-n", "1", "--max-tokens", "2",
              "-o", str(tmp_path / "run")],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert f"note: plots skipped: they need the plot extra: {install_command('plot')}" in (
        result.stderr
    )
