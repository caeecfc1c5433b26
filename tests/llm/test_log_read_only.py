"""The call log on a read-only file system: read it (read-only), and say it cannot be
opened for writing. Before, ``llmkit log`` called a valid log "not an llmkit call log".

A read-only tmpfs is mounted in a private mount namespace (``unshare -m``), which needs
root (or user namespaces); elsewhere the test is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    set -e
    D="$1"
    mount -t tmpfs tmpfs "$D"
    "$PY" - "$D" <<'PYEOF'
    import sqlite3, sys
    from llmkit.llm._log import CallLog
    log = CallLog(sys.argv[1] + "/calls.db")
    log.append({"started_at": 1.0, "base_url": "http://h/v1", "request_json": "{}",
                "attempts": 1, "attempts_json": "[]", "model": "m-one"})
    log.close()
    PYEOF
    mount -o remount,ro "$D"
    "$PY" -m llmkit.cli._main log --path "$D/calls.db" --json
    "$PY" - "$D" <<'PYEOF'
    import logging, sys
    logging.basicConfig(stream=sys.stdout, format="%(message)s")
    from llmkit.llm._log import CallLog
    log = CallLog(sys.argv[1] + "/calls.db")
    log.append({"started_at": 2.0, "base_url": "http://h/v1", "request_json": "{}",
                "attempts": 1, "attempts_json": "[]", "model": "m-two"})
    log.close()
    PYEOF
    """
)


def test_a_log_on_a_read_only_file_system_is_read_and_not_written(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-m", "true"], check=False).returncode:
        pytest.skip("needs unshare -m (root) to mount a read-only file system")
    mount_point = tmp_path / "ro"
    mount_point.mkdir()
    script = tmp_path / "run.sh"
    script.write_text(SCRIPT)
    ran = subprocess.run(
        [unshare, "-m", "bash", str(script), str(mount_point)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PY": sys.executable, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
        check=False,
    )
    if "mount:" in ran.stderr and ran.returncode:
        pytest.skip(f"cannot mount here: {ran.stderr.strip()}")
    assert ran.returncode == 0, ran.stderr
    assert '"model": "m-one"' in ran.stdout or '"model":"m-one"' in ran.stdout
    assert "not an llmkit call log" not in ran.stdout + ran.stderr
    assert "cannot be opened for writing" in ran.stdout
