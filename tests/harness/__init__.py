# Private to the azure_apim.identity test suite.
"""One test harness for the integration tests, the reliability scenarios and the benchmarks (importable with
PYTHONPATH=tests, as `make` and pytest.ini set it):

- `harness.runner`: `run_playbook` (ansible-playbook the way AWX runs it), `run_module` (one module as its own
  process), and the pieces both build on (environment, inventory, command line);
- `harness.quartet`: `run_quartet`, check → apply → idempotent check → idempotent apply with its assertions;
- `harness.diffs`: `compare_runs`, the check's predicted diffs against the apply's.
"""
