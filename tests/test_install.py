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

from llmkit.cli._main import COMMAND_EXTRAS, COMMANDS
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


# A structured call (the engine answers support tickets), logged to argv[2].
STRUCTURED_CALL = """
import sys
import llmkit

client = llmkit.Client(base_url=sys.argv[1], model="llmkit-sim", log=sys.argv[2])
result = client.structured("File a support ticket", schema={
    "type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]})
assert result.ok, result
"""


def _run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return _run_env({}, *cmd, cwd=cwd)


def _run_env(
    extra_env: dict[str, str], *cmd: str | Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    # Never from the checkout: `python -c` would import its llmkit/ instead of the wheel's.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(extra_env)
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
    installed = _run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel)
    assert installed.returncode == 0, installed.stderr
    # measured before pytest (and its Pygments) comes in
    (tmp / "size-kib").write_text(str(_site_packages_kib(venv)))
    (tmp / "distributions").write_text("\n".join(sorted(_distributions(venv))))
    # pytest too: llmkit's pytest plugin loads in every pytest run of an install
    installed = _run(venv / "bin" / "python", "-m", "pip", "install", "-q", "pytest")
    assert installed.returncode == 0, installed.stderr
    where = _run(venv / "bin" / "python", "-c", "import llmkit; print(llmkit.__file__)")
    assert where.stdout.startswith(str(venv)), where.stdout  # the wheel's, not the checkout's
    return venv


# pip's own and what venv puts beside it: not llmkit's (the measure excludes them)
_PIP_AND_SETUPTOOLS = (
    "pip",
    "setuptools",
    "pkg_resources",
    "_distutils_hack",
    "distutils-precedence.pth",
)


def _site_packages_kib(venv: Path) -> int:
    """``du -sk`` of the venv's site-packages, pip and setuptools left out."""
    (site,) = (venv / "lib").glob("python3*/site-packages")
    blocks = 0
    for entry in site.iterdir():
        if entry.name.startswith(_PIP_AND_SETUPTOOLS):
            continue
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        blocks += sum(f.lstat().st_blocks for f in files)
    return blocks // 2  # st_blocks counts 512-byte blocks, as du does


def _distributions(venv: Path) -> set[str]:
    code = "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))"
    out = _run(venv / "bin" / "python", "-c", code)
    return {line.strip().lower().replace("_", "-") for line in out.stdout.splitlines()}


def test_no_extra_is_installed(base_venv: Path) -> None:
    dists = set((base_venv.parent / "distributions").read_text().splitlines())
    assert "llmkit" in dists and "openai" in dists and "jsonschema" in dists
    for extra_only in ("aiohttp", "pandas", "numpy", "sqlalchemy", "vcrpy", "msgspec",
                       "argon2-cffi", "matplotlib", "starlette", "psycopg", "rich",
                       "pygments", "jsonschema-rs"):  # fmt: skip
        assert extra_only not in dists, extra_only


def test_the_base_install_stays_under_its_size_budget(base_venv: Path) -> None:
    # The lean-core budget: a client-only install under 70 MiB as pip installs it (bytecode
    # included). openai alone is 30 MiB; a new dependency that breaks it is a decision.
    kib = int((base_venv.parent / "size-kib").read_text())
    assert kib < 70 * 1024, f"the base install is {kib / 1024:.1f} MiB"


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


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_either_runs_or_names_its_extra(base_venv: Path, command: str) -> None:
    # Never a ModuleNotFoundError from deep inside: `--help` works, or one line says what
    # to install (exit 2), for every command `llmkit --help` lists.
    out = _run(base_venv / "bin" / "llmkit", command, "--help")
    extras = COMMAND_EXTRAS.get(command, ())
    if extras:
        needed = ",".join(extras)
        assert out.returncode == 2 and out.stdout == "", out.stderr
        assert out.stderr.startswith(f"error: llmkit {command} needs the ")
        assert out.stderr.endswith(f": pip install 'llmkit[{needed}]'\n"), out.stderr
    else:
        assert (out.returncode, out.stderr) == (0, ""), out.stderr
        assert out.stdout.startswith(f"Usage: llmkit {command} ")


def test_the_base_commands_run_over_a_real_call_log(
    base_venv: Path, engine: EngineHandle, tmp_path: Path
) -> None:
    calls = tmp_path / "calls.db"
    env = {"LLMKIT_LOG": str(calls), "LLMKIT_MODEL": "llmkit-sim"}
    chat = _run_env(env, base_venv / "bin" / "llmkit", "chat", "--base-url", engine.base_url,
                    "--max-tokens", "4", "Say hi")  # fmt: skip
    assert chat.returncode == 0 and chat.stdout.strip(), chat.stderr
    parse = _run(base_venv / "bin" / "python", "-c", STRUCTURED_CALL, engine.base_url, calls)
    assert parse.returncode == 0, parse.stderr

    log = _run(base_venv / "bin" / "llmkit", "log", "--log-path", calls)
    assert log.returncode == 0 and log.stderr == "", log.stderr
    lines = log.stdout.splitlines()
    assert lines[0] == f"last 2 calls in {calls}" and lines[1].split()[:2] == ["id", "model"]
    assert [line.split()[0] for line in lines[3:]] == ["1", "2"]
    rows = json.loads(
        _run(base_venv / "bin" / "llmkit", "log", "--log-path", calls, "--json").stdout
    )
    assert [row["model"] for row in rows] == ["llmkit-sim", "llmkit-sim"]

    taxonomy = _run(base_venv / "bin" / "llmkit", "taxonomy", "--log-path", calls, "--json")
    assert taxonomy.returncode == 0, taxonomy.stderr
    assert json.loads(taxonomy.stdout)["total"] == 1  # the structured call, not the chat
    shown = _run(base_venv / "bin" / "llmkit", "taxonomy", "--log-path", calls)
    assert shown.returncode == 0 and "Stages over 1 answers" in shown.stdout, shown.stderr

    missing = _run(base_venv / "bin" / "llmkit", "log", "--log-path", tmp_path / "typo.db")
    assert missing.returncode == 2 and "no call log at" in missing.stderr
    assert "Traceback" not in missing.stderr and not (tmp_path / "typo.db").exists()


def test_read_log_without_pandas_says_what_to_install(base_venv: Path, tmp_path: Path) -> None:
    code = (
        "import sys, llmkit.llm as m\n"
        "m.CallLog(sys.argv[1]).close()\n"  # an empty log, made by the writer
        "print(m.read_calls(sys.argv[1]))\n"
        "try:\n    m.read_log(sys.argv[1])\n"
        "except llmkit.ConfigError as e:\n    print(e)\n"
    )
    out = _run(base_venv / "bin" / "python", "-c", "import llmkit\n" + code, tmp_path / "c.db")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "[]",
        "read_log returns a pandas DataFrame and pandas is not installed: pip install pandas "
        "(read_calls returns the rows as dicts without it)",
    ]


def test_help_says_which_commands_need_an_extra(base_venv: Path) -> None:
    out = _run(base_venv / "bin" / "llmkit", "--help")
    assert out.returncode == 0, out.stderr
    listing = " ".join(out.stdout.split())  # as one line: click wraps at the terminal's width
    for name, (_module, _attr, summary) in COMMANDS.items():
        extras = COMMAND_EXTRAS.get(name, ())
        needs = f" (needs pip install 'llmkit[{','.join(extras)}]')" if extras else ""
        assert f"{name} {summary}{needs}" in listing, name
        if not extras:
            assert f"{name} {summary} (needs" not in listing, name


@pytest.mark.parametrize(
    ("module", "extra"),
    [("llmkit.engine", "engine"), ("llmkit.bench", "bench"), ("llmkit.annotate", "annotate"),
     ("llmkit.evals", "eval"), ("llmkit.watch", "watch"), ("llmkit.stats", "eval")],
)  # fmt: skip
def test_importing_a_package_of_a_missing_extra_names_it(
    base_venv: Path, module: str, extra: str
) -> None:
    out = _run(base_venv / "bin" / "python", "-c", f"import {module}")
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last == (
        f"llmkit.extras.MissingExtraError: {module} needs the {extra} extra: "
        f"pip install 'llmkit[{extra}]'"
    )
