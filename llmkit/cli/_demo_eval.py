"""The evaluation part of ``llmkit demo``: replay the shipped example suite, then catch a
worse prompt as a regression (recorded against the embedded engine, offline)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["run_demo", "worsen_suite"]


def worsen_suite(src: Path, dest_dir: Path) -> Path:
    """A copy of the example suite whose prompt no longer asks for YAML or gives the format.

    Returns:
        The new suite file (its cassettes go to ``dest_dir/cassettes/<name>``).
    """
    text = src.read_text(encoding="utf-8")
    text = text.replace(", written as YAML.", ".").replace(
        "Write the ticket as\n        YAML for", "Write the ticket for"
    )
    text = text.replace("Write the ticket as YAML for", "Write the ticket for")
    text = text.replace(
        "  format: yaml\n", "  format: yaml\n  include_format_instructions: false\n", 1
    )
    (dest_dir / "prompts").mkdir(parents=True, exist_ok=True)
    out = dest_dir / "prompts" / src.name
    out.write_text(text, encoding="utf-8")
    return out


def run_demo(console: Console, quick: bool = False) -> dict[str, Any]:
    """Replay the example suite (no network); unless ``quick``, record a worse prompt against
    the embedded engine and show the cases it breaks.

    Returns:
        What was measured (pass rates, failing cases), for ``llmkit demo --json``.
    """
    from llmkit.evals import example_suite_path, load_suite, print_table, run_suite

    report: dict[str, Any] = {}
    suite = load_suite(example_suite_path())
    run = run_suite(suite, "replay")
    print_table(run, console)
    summary = run.summary()
    console.print(
        f"replayed {summary['cases']} recorded cases in {run.seconds:.2f} s, no network: "
        f"pass rate {summary['pass_rate']:.0%} → exit {summary['exit_code']}"
    )
    report["replay"] = {
        "cases": summary["cases"],
        "pass_rate": summary["pass_rate"],
        "exit_code": summary["exit_code"],
    }
    if quick:
        return report
    from llmkit.engine import EngineConfig, start_engine

    with tempfile.TemporaryDirectory(prefix="llmkit-eval-demo-") as tmp:
        worse = worsen_suite(example_suite_path(), Path(tmp))
        worse_suite = load_suite(worse)
        with start_engine(EngineConfig.zero_delay()) as engine:
            run_suite(
                worse_suite, "record", base_url=engine.base_url, api_key="demo", concurrency=4
            )
        worse_run = run_suite(worse_suite, "replay")
        shutil.rmtree(Path(tmp) / "cassettes", ignore_errors=True)
    ws = worse_run.summary()
    failing = [c.case.id for c in worse_run.cases if not c.passed]
    console.print(
        f"the same suite with a prompt that no longer asks for YAML: pass rate "
        f"{ws['pass_rate']:.0%} → exit {ws['exit_code']}; failing: {', '.join(failing) or 'none'}"
    )
    report["worse_prompt"] = {
        "pass_rate": ws["pass_rate"],
        "exit_code": ws["exit_code"],
        "failing": failing,
    }
    return report
