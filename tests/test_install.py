"""The wheel with no extras, in a fresh venv: the client and ``parse`` work, extras stay out.

The base install has no embedded engine (it is the ``engine`` extra), so the engine runs in
this test's own environment and the fresh venv calls it over real HTTP, as a service that
wraps LLM calls would call its model server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmkit.engine import EngineHandle

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

# What a client-only user runs: one call, its timing, one structured answer, one parse.
CLIENT_SCRIPT = """
import json, sys
import llmkit

client = llmkit.Client(base_url=sys.argv[1], model="llmkit-sim", log=False,
                       timeouts=llmkit.Timeouts(total=30), retry=llmkit.RetryPolicy(max_attempts=1))
result = client.chat("Say hello", max_tokens=8)
value = llmkit.parse('```yaml\\nname: Ada\\nage: "36"\\n```', schema={
    "type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"]})
heavy = sorted(m for m in ("aiohttp", "pandas", "numpy", "sqlalchemy", "vcr", "matplotlib")
               if m in sys.modules)
print(json.dumps({"text": result.text, "ttft_ms": result.timing.ttft_ms,
                  "value": value.value, "ok": value.ok, "heavy": heavy}))
"""


def _run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # Never from the checkout: `python -c` would import its llmkit/ instead of the wheel's.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=cwd or Path(cmd[0]).parent,
    )


@pytest.fixture(scope="module")
def base_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel built from this checkout, installed with no extras."""
    tmp = tmp_path_factory.mktemp("install")
    built = _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                 "-w", tmp / "dist", ROOT)  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("llmkit-*.whl")
    venv = tmp / "venv"
    made = _run(sys.executable, "-m", "venv", venv)
    assert made.returncode == 0, made.stderr
    # pytest too: llmkit's pytest plugin loads in every pytest run of an install
    installed = _run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, "pytest")
    assert installed.returncode == 0, installed.stderr
    where = _run(venv / "bin" / "python", "-c", "import llmkit; print(llmkit.__file__)")
    assert where.stdout.startswith(str(venv)), where.stdout  # the wheel's, not the checkout's
    return venv


def _distributions(venv: Path) -> set[str]:
    code = "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))"
    out = _run(venv / "bin" / "python", "-c", code)
    return {line.strip().lower().replace("_", "-") for line in out.stdout.splitlines()}


def test_no_extra_is_installed(base_venv: Path) -> None:
    dists = _distributions(base_venv)
    assert "llmkit" in dists and "openai" in dists and "jsonschema-rs" in dists
    for extra_only in ("aiohttp", "pandas", "numpy", "sqlalchemy", "vcrpy", "msgspec",
                       "argon2-cffi", "matplotlib", "starlette", "psycopg"):  # fmt: skip
        assert extra_only not in dists, extra_only


def test_client_and_parse_run_against_the_embedded_engine(
    base_venv: Path, engine: EngineHandle
) -> None:
    out = _run(base_venv / "bin" / "python", "-c", CLIENT_SCRIPT, engine.base_url)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["text"] and got["ttft_ms"] > 0
    assert got["ok"] is True and got["value"] == {"name": "Ada", "age": 36}
    assert got["heavy"] == []


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["bench", "-n", "1"], "llmkit bench needs the bench extra: pip install 'llmkit[bench]'"),
        (["annotate", "serve"], "llmkit annotate serve needs the web extra: "
         "pip install 'llmkit[web]'"),
        (["serve"], "llmkit serve needs the engine extra: pip install 'llmkit[engine]'"),
    ],
)  # fmt: skip
def test_commands_of_missing_extras_name_the_pip_command(
    base_venv: Path, argv: list[str], line: str
) -> None:
    out = _run(base_venv / "bin" / "llmkit", *argv)
    assert (out.returncode, out.stdout, out.stderr) == (2, "", f"error: {line}\n")  # misuse


def test_pytest_runs_with_llmkits_plugin_and_no_eval_extra(base_venv: Path) -> None:
    tests = base_venv.parent / "user_tests"
    tests.mkdir()
    (tests / "test_service.py").write_text("def test_ok():\n    assert 1 + 1 == 2\n")
    out = _run(base_venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--trace-config", tests, cwd=tests)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "llmkit._pytest_plugin" in out.stdout and "1 passed" in out.stdout
