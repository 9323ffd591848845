"""bench.runner: the interpreter wrapper really measures a process's peak RSS; the timing callback really records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import metrics, runner


def test_inventory_lists_local_hosts_with_their_instance_and_the_wrapper(tmp_path):
    hosts = [{"name": "inst001", "vars": {"bench_instance": "apim-bench-001"}}]
    text = runner.write_inventory(tmp_path / "inv.ini", hosts, "/w/python-with-rss.sh").read_text()
    assert "inst001 ansible_connection=local bench_instance=apim-bench-001" in text
    assert "ansible_python_interpreter=/w/python-with-rss.sh" in text


@pytest.mark.skipif(not os.access(runner.GNU_TIME, os.X_OK), reason="GNU time (/usr/bin/time) is not installed")
def test_wrapper_records_the_peak_rss_of_the_module_process(tmp_path):
    interpreter, measures = runner.interpreter_wrapper(tmp_path, sys.executable)
    assert measures and interpreter.endswith("python-with-rss.sh")
    module = tmp_path / "AnsiballZ_fake_module.py"
    module.write_text("block = bytearray(96 * 1024 * 1024)\nblock[::4096] = b'x' * len(block[::4096])\n")
    log = tmp_path / "rss.log"
    subprocess.run([interpreter, str(module)], check=True, env={**os.environ, "BENCH_RSS_LOG": str(log)})
    subprocess.run([interpreter, "-c", "pass"], check=True, env={**os.environ, "BENCH_RSS_LOG": str(log)})
    samples = metrics.parse_rss_log(log.read_text())
    assert [s["module"] for s in samples] == ["fake_module", "other"]
    assert samples[0]["rss_mib"] >= 96
    assert samples[1]["rss_mib"] < samples[0]["rss_mib"] - 64


def test_timing_callback_records_tasks_hosts_and_failures(tmp_path):
    playbook = tmp_path / "pb.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: first\n      ansible.builtin.command: 'true'\n"
        "    - name: second\n      ansible.builtin.fail: {msg: planned}\n      when: inventory_hostname == 'b'\n"
        "      ignore_errors: true\n")
    inventory = runner.write_inventory(tmp_path / "inv.ini", [{"name": "a", "vars": {}}, {"name": "b", "vars": {}}],
                                       sys.executable)
    timing_file = tmp_path / "timing.json"
    env = {**os.environ, "ANSIBLE_CALLBACK_PLUGINS": str(runner.CALLBACK_DIR),
           "ANSIBLE_CALLBACKS_ENABLED": "bench_timing", "BENCH_TIMING_FILE": str(timing_file),
           "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "ANSIBLE_HOME": str(tmp_path / "home")}
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    proc = subprocess.run([str(ansible_playbook), "-i", str(inventory), str(playbook)], env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tasks = metrics.task_windows(json.loads(timing_file.read_text()))
    assert [t["name"] for t in tasks] == ["first", "second"]
    assert tasks[0]["hosts_ran"] == 2 and tasks[0]["changed"] == ["a", "b"]
    assert tasks[1]["hosts_ran"] == 1
    assert tasks[0]["start"] <= tasks[0]["end"] <= tasks[1]["start"] <= tasks[1]["end"]
