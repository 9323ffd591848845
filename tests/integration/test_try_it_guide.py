"""docs/try-it.md, run literally: every ```bash block of the guide, in order, in one shell, from the repo root.

The guide starts the local Azure with `make emulator`, points the shell at it, writes an inventory and a playbook,
runs check -> apply -> re-run, reads the request log, resets the world and stops the server. The test adds nothing
between the blocks, so a command that no longer works (or a step the guide forgets) fails here.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "try-it.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)


def guide_script() -> str:
    blocks = BLOCK.findall(GUIDE.read_text(encoding="utf-8"))
    assert len(blocks) >= 6, "docs/try-it.md lost its runnable blocks"
    return "set -euo pipefail\nset -m\n" + "\n".join(blocks)


def clean_env() -> dict:
    """The environment of a newcomer's shell: no AZURE_* or ANSIBLE_* settings from this test session."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ANSIBLE_", "PYTHONPATH"))}
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


@pytest.mark.integration
def test_the_guide_runs_as_written(tmp_path):
    script = tmp_path / "guide.sh"
    script.write_text(guide_script(), encoding="utf-8")
    proc = subprocess.Popen(["bash", str(script)], cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out = proc.communicate(timeout=600)[0]
    finally:
        if proc.poll() is None or Path(ROOT / "build" / "local-azure.json").exists():
            # A failing block leaves the background server behind: end the whole session's process group.
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    assert proc.returncode == 0, out[-4000:]
    recaps = re.findall(r"localhost\s+: ok=\d+\s+changed=(\d+)", out)
    assert len(recaps) == 3, out[-3000:]
    check, apply, rerun = (int(c) for c in recaps)
    assert check >= 1 and apply == check and rerun == 0, recaps
    # The request log step printed the last requests: the re-run only read.
    log_lines = [line for line in out.splitlines() if re.match(r"^(GET|PUT|PATCH|POST|DELETE) \d{3} /", line)]
    assert log_lines and all(line.startswith(("GET", "POST 200 /")) for line in log_lines), log_lines
    assert not (ROOT / "build" / "local-azure.json").exists(), "the server did not stop (state file left)"
