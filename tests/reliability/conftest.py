# Private to the azure_apim.identity test suite.
"""Fixtures of the reliability suite and its end-of-run report (scenario table + secrets-oracle figure).

Each test is one scenario of issue 9, marked `@pytest.mark.scenario(n, "title")`. It runs modules as processes
against the local Azure with faults injected, and records the writes it counted and the re-runs it needed with
`record(...)`. Every module run's output is searched by the secrets oracle as soon as it ends.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import pytest

from harness.quartet import assert_idempotent, run_quartet, runs_of
from harness.runner import REPO_ROOT, ModuleRun, run_module
from reliability.oracle import Oracle
from reliability.snapshot import diff_views, foreign_view

ORACLE = Oracle()
# scenario number -> {"title", "result", "writes", "reruns", "test"}
RESULTS: dict[int, dict[str, Any]] = {}

TITLES = {
    1: "429 + Retry-After on the first GETs",
    2: "PATCH 429 without Retry-After",
    3: "500/503 and dropped connections (reads, idempotent writes)",
    4: "write applied, response lost, retried",
    5: "role assignment PUT retried after commit (RoleAssignmentExists)",
    6: "identical role assignment under another name adopted",
    7: "PrincipalNotFound for a while / forever",
    8: "LRO with Retry-After polling",
    9: "LRO outliving the task timeout, re-run",
    10: "409 while Updating (another writer), merge",
    11: "LRO ends Failed: code and message, no blind retry",
    12: "foreign hostname survives add and remove",
    13: "11th identity / referenced removal / KV hostname without identity",
    14: "access-policy vault: parallel grants + third writer",
    15: "Key Vault 409 ConflictError twice",
    16: "RBAC vault: no policy writes, propagation waited out",
    17: "firewall + user-assigned, wrong content type, /certificates/ URL",
    18: "versioned/versionless ids, case, trailing slash",
    19: "logger credentials masked on read",
    20: "named value 412 stale ETag, other writer's tags kept",
    21: "expired token mid-run",
    22: "wrong client secret / wrong tenant",
    23: "check mode across all modules: zero mutating requests",
    # issue 15: real Azure is slow and strange (test_slow_azure.py)
    24: "RBAC grant still propagating before a hostname write",
    25: "RBAC propagation outlasts the task timeout",
    26: "unregistered resource provider vs the task deadline",
    27: "GET answered 200 without a body",
    28: "Retry-After that is neither seconds nor a date",
    29: "operation-status URL answers 404",
    30: "principal rotation: disabling the system identity names its grants",
    31: "principal rotation: orphans listed and removed, nothing else",
    # issue 15: deadlines and concurrent writers (test_deadlines.py)
    32: "slow / hanging token endpoint vs the task deadline",
    33: "412: another writer between our read and our write",
    34: "no task outlives its timeout by more than one poll interval",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario(number, title): a scenario of the reliability suite (issue 9)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("scenario")
    if marker is None or report.when not in ("setup", "call"):
        return
    number = int(marker.args[0])
    row = RESULTS.setdefault(number, {"title": TITLES.get(number, marker.args[1] if len(marker.args) > 1 else ""),
                                      "tests": []})
    props = dict(item.user_properties)
    if report.when == "setup" and report.passed:
        return
    result = "skipped" if report.skipped else "passed" if report.passed else "FAILED"
    row["tests"].append({"name": item.name, "result": result, "writes": props.get("writes"),
                         "reruns": props.get("reruns")})


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS and not ORACLE.texts:
        return
    write = terminalreporter.write_line
    terminalreporter.section("reliability scenarios (issue 9)")
    write(f"{'#':>3}  {'scenario':<66} {'result':<8} {'writes':>6} {'re-runs':>7}")
    for number in sorted(TITLES):
        row = RESULTS.get(number)
        if row is None:
            write(f"{number:>3}  {TITLES[number][:66]:<66} {'not run':<8} {'-':>6} {'-':>7}")
            continue
        tests = row["tests"]
        results = {t["result"] for t in tests}
        result = "FAILED" if "FAILED" in results else "passed" if "passed" in results else "skipped"
        writes = sum(t["writes"] or 0 for t in tests if t["writes"] is not None)
        reruns = max((t["reruns"] or 0 for t in tests), default=0)
        write(f"{number:>3}  {row['title'][:66]:<66} {result:<8} {writes:>6} {reruns:>7}")
    terminalreporter.section("secrets oracle")
    kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(ORACLE.kinds().items()))
    write(f"secret values searched: {len(ORACLE.secrets)} ({kinds}) + any JWT")
    write(f"texts searched: {len(ORACLE.texts)} ({ORACLE.searched_chars} characters: module stdout/stderr/SDK debug "
          f"logs, playbook -vvvv stdout/stderr, callback JSON)")
    write(f"secret hits: {len(ORACLE.hits)}")
    for hit in ORACLE.hits[:20]:
        write(f"  HIT {hit.kind} in {hit.origin}: {hit.excerpt}")


# --- fixtures -----------------------------------------------------------------------------------------------------


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[..., None]:
    """`record(writes=N, reruns=M)`: the figures this scenario shows in the summary table."""
    def put(writes: Optional[int] = None, reruns: Optional[int] = None) -> None:
        props = dict(request.node.user_properties)
        if writes is not None:
            props["writes"] = writes
        if reruns is not None:
            props["reruns"] = reruns
        request.node.user_properties[:] = list(props.items())

    return put


class Rel:
    """What a scenario works with: the local Azure, module runs (oracle-checked), faults and state views."""

    def __init__(self, azure: Any, workdir: Path, seed: Callable[..., dict]) -> None:
        self.azure = azure
        self.admin = azure.admin
        self.workdir = workdir
        self._seed = seed
        self.summary: dict[str, Any] = {}
        ORACLE.add_secret("client secret", azure.client_secret)

    # -- world -----------------------------------------------------------------------------------------------------
    def seed(self, spec: Any, **config: Any) -> dict[str, Any]:
        """Reset, seed `spec`, apply config (time_scale etc.); remembers the summary."""
        self.summary = self._seed(spec, **config)
        return self.summary

    def state(self) -> dict[str, Any]:
        """The local Azure's state now."""
        return self.admin.state()

    def fault(self, **rule: Any) -> dict[str, Any]:
        """Add a fault rule (see the emulator's admin interface)."""
        return self.admin.add_fault(**rule)

    def fault_hits(self) -> list[int]:
        """Hit counts of the fault rules, in the order they were added."""
        return [rule["hits"] for rule in self.admin.faults()]

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.admin.clear_faults()

    # -- runs ------------------------------------------------------------------------------------------------------
    def run(self, module: str, args: dict[str, Any], *, check: bool = False, diff: bool = True,
            env: Optional[dict[str, str]] = None, timeout: float = 600) -> ModuleRun:
        """Run a module; its output is searched for every secret known (tokens issued included) right away."""
        return self._checked(run_module(self.azure, self.workdir, module, args, check=check, diff=diff, env=env,
                                        timeout=timeout))

    def parallel(self, runs: Iterable[tuple[str, dict[str, Any]]],
                 also: Optional[Callable[[], None]] = None) -> list[ModuleRun]:
        """Run modules at the same time (and `also()`, a third actor, in a thread); the log is shared."""
        self.admin.clear_requests()
        specs = list(runs)
        results: list[Optional[ModuleRun]] = [None] * len(specs)

        def one(index: int, module: str, args: dict[str, Any]) -> None:
            results[index] = run_module(self.azure, self.workdir, module, args, clear_log=False)

        threads = [threading.Thread(target=one, args=(i, m, a)) for i, (m, a) in enumerate(specs)]
        threads += [threading.Thread(target=also)] if also else []
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        requests, state = self.admin.requests(), self.admin.state()
        out = []
        for result in results:
            assert result is not None, "a parallel run did not finish"
            result.requests, result.state = requests, state
            out.append(self._checked(result))
        return out

    def _checked(self, result: ModuleRun) -> ModuleRun:
        module, check = result.module, result.check
        ORACLE.add_secrets("bearer token", self.admin.issued_tokens())
        label = f"{module}{' --check' if check else ''}"
        hits = []
        for origin, text in (("stdout", result.stdout), ("stderr", result.stderr), ("SDK debug log", result.sdk_log)):
            hits += ORACLE.add_text(f"{label} {origin}", text)
        assert not hits, f"secrets leaked by {label}: {[(h.kind, h.origin, h.excerpt) for h in hits]}"
        return result

    def quartet(self, module: str, args: dict[str, Any], *, env: Optional[dict[str, str]] = None,
                faults: Iterable[dict[str, Any]] = ()) -> dict[str, ModuleRun]:
        """check → apply → idempotent check → idempotent apply (tests/harness/quartet.py); faults (if any) are
        armed for the apply only.

        Asserts the common contract: check predicts a change with zero writes, apply changes, both idempotent
        runs report no change and send zero writes.
        """
        rules = list(faults)

        def arm() -> None:
            for rule in rules:
                self.fault(**rule)

        return run_quartet(runs_of(self.run, module, args, env=env), apply_writes=False, before_apply=arm,
                           after_apply=self.clear_faults).runs()

    def idempotent(self, module: str, args: dict[str, Any], *, env: Optional[dict[str, str]] = None
                   ) -> dict[str, ModuleRun]:
        """A check run and a real run that both report no change and send zero writes."""
        check_again, apply_again = assert_idempotent(runs_of(self.run, module, args, env=env))
        return {"check_again": check_again, "apply_again": apply_again}

    # -- checks ----------------------------------------------------------------------------------------------------
    @staticmethod
    def assert_foreign_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
        """Two foreign views must be identical."""
        changes = diff_views(before, after)
        assert not changes, "state the run does not own changed:\n" + "\n".join(changes)


@pytest.fixture
def rel(local_azure: Any, world: Callable[..., dict], tmp_path: Path) -> Rel:
    """The reliability helper for one scenario (the world is seeded by the test)."""
    return Rel(local_azure, tmp_path, world)


def require_modules(*names: str) -> None:
    """Skip the calling test module when a capability module it exercises is not in this checkout yet."""
    missing = [name for name in names if not (REPO_ROOT / "plugins" / "modules" / f"{name}.py").exists()]
    if missing:
        pytest.skip(f"module(s) {', '.join(missing)} not in this checkout yet", allow_module_level=True)


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.2) -> bool:
    """Poll `predicate` until true or the timeout passes (for the emulator's clock to catch up)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


__all__ = ["Rel", "foreign_view", "require_modules", "wait_for"]
