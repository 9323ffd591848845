"""Run `ansible-playbook` against the local Azure the way AWX would; kept under its old name for the integration
tests, the runner lives in tests/harness/runner.py (shared with the reliability suite and bench)."""

from harness.runner import (CALLBACK_DIR, COLLECTIONS_DIR, PLAYBOOKS_DIR, REPO_ROOT, PlaybookResult,
                            ensure_collection_link, module_python, playbook_env, run_playbook, write_inventory)

__all__ = ["CALLBACK_DIR", "COLLECTIONS_DIR", "PLAYBOOKS_DIR", "REPO_ROOT", "PlaybookResult", "ensure_collection_link",
           "module_python", "playbook_env", "run_playbook", "write_inventory"]
