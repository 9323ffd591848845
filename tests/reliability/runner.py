# Private to the azure_apim.identity test suite.
"""Run one module of the collection as its own process against the local Azure; kept under its old name for the
reliability suite, the runner lives in tests/harness/runner.py (shared with the integration tests and bench).

Every run is started with the Azure SDK loggers at DEBUG (see `sitecustomize/`); the suite's `Rel.run` hands
stdout, stderr and the SDK log to the session's `Oracle`, which searches them for the seeded secrets.
"""

from harness.runner import (COLLECTIONS_DIR, MODULE_PACKAGE, REPO_ROOT, SITE_DIR, ModuleRun, last_json, module_env,
                            run_module)

__all__ = ["COLLECTIONS_DIR", "MODULE_PACKAGE", "REPO_ROOT", "SITE_DIR", "ModuleRun", "last_json", "module_env",
           "run_module"]
