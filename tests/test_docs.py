"""The generated parts of the documentation site (docs/hooks.py) say what the code says.

The site itself is built by ``mkdocs build --strict`` in ``.ci/run`` (it needs the ``docs``
extra); these tests run the generators and the docstring gate without MkDocs.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

import llmkit
from llmkit.evals import registered_scorers
from llmkit.structured import rules

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llmkit_docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_name_has_a_docstring(hooks: ModuleType) -> None:
    assert hooks.undocumented_public_names() == []


def test_the_facade_table_links_every_exported_name(hooks: ModuleType) -> None:
    table = hooks.facade_table()
    listed = re.findall(r"^\| \[?`([A-Za-z_]+)`", table, flags=re.MULTILINE)
    assert listed == llmkit.__all__


def test_the_rules_page_lists_the_registry_in_order(hooks: ModuleType) -> None:
    listed = re.findall(r"^\| `([a-z0-9_]+)` \|", hooks.rules_table(), flags=re.MULTILINE)
    assert listed == [r.name for r in rules()]


def test_the_scorer_table_lists_every_scorer(hooks: ModuleType) -> None:
    listed = re.findall(r"^\| `([a-z0-9_]+)` \|", hooks.scorer_table(), flags=re.MULTILINE)
    assert listed == registered_scorers()


def test_rubric_schema_is_the_validators(hooks: ModuleType) -> None:
    text = hooks.rubric_schema()
    assert '"dimensions"' in text and '"additionalProperties": false' in text


def test_markers_are_filled_and_unknown_ones_refused(hooks: ModuleType) -> None:
    page = "# Rules\n\n<!-- generate: rules -->\n"
    assert "`strip_think`" in hooks.render_markers(page)
    with pytest.raises(KeyError, match="unknown generated section"):
        hooks.render_markers("<!-- generate: nonsense -->\n")


def test_every_marker_in_the_docs_names_a_generator(hooks: ModuleType) -> None:
    for page in (ROOT / "docs").rglob("*.md"):
        for name in re.findall(r"^<!-- generate: ([a-z-]+) -->$", page.read_text(), re.M):
            assert name in hooks.GENERATORS, f"{page}: {name}"


def test_table_cells_escape_html_outside_code(hooks: ModuleType) -> None:
    assert hooks._cell("no <think> | `<think>`") == "no &lt;think&gt; \\| `<think>`"


def test_readme_stays_a_front_page() -> None:
    assert len((ROOT / "README.md").read_bytes()) < 12_000


def test_the_exit_code_page_is_the_contract(hooks: ModuleType) -> None:
    from llmkit.cli._common import ExitCode

    listed = re.findall(r"^\| (\d+) \| `([A-Z_]+)` \|", hooks.exit_codes_table(), re.M)
    assert [(int(code), name) for code, name in listed] == [(c.value, c.name) for c in ExitCode]
