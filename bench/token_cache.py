"""`python -m bench.token_cache`: what a shared on-disk token cache would save per module process (issue 17).

Starts the local Azure (30 ms latency per request), then runs N fresh Python processes, each like one module
process: build a ClientSecretCredential and get one ARM token. Once without a persistent cache (today), once with
azure-identity's TokenCachePersistenceOptions (msal-extensions; unencrypted file in a private temporary HOME, as
Linux hosts without a keyring would need). Prints Entra ID requests per process and the median time to the token.
Nothing here is used by the collection; see bench/README.md for the figure and the decision.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.runner import LocalAzureProcess

CHILD = r"""
import json, sys, time
t0 = time.perf_counter(); c0 = time.process_time()
from azure.identity import ClientSecretCredential, TokenCachePersistenceOptions
info = json.loads(sys.argv[1])
kwargs = {}
if info["cache"]:
    kwargs["cache_persistence_options"] = TokenCachePersistenceOptions(name="bench-apim",
                                                                       allow_unencrypted_storage=True)
t1 = time.perf_counter(); c1 = time.process_time()
cred = ClientSecretCredential(info["tenant_id"], info["client_id"], info["client_secret"], authority=info["base_url"],
                              disable_instance_discovery=True, connection_verify=info["ca_bundle"], **kwargs)
cred.get_token(info["base_url"] + "/.default")
print(json.dumps({"import_s": t1 - t0, "token_s": time.perf_counter() - t1, "token_cpu_s": time.process_time() - c1}))
"""


def measure(azure, cache: bool, runs: int, home: Path) -> dict:
    info = {k: getattr(azure, k) for k in ("tenant_id", "client_id", "client_secret", "base_url", "ca_bundle")}
    info["cache"] = cache
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    azure.admin.clear_requests()
    samples = []
    for _run in range(runs):
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(info)], env=env, capture_output=True,
                             text=True, check=True)
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    log = azure.admin.requests()
    entra = [e for e in log if "/oauth2/" in e["path"] or "/.well-known/" in e["path"]]
    return {"cache": cache, "runs": runs, "entra_requests": len(entra),
            "token_requests": sum(1 for e in entra if "/oauth2/" in e["path"] and e["method"] == "POST"),
            "median_token_s": statistics.median(s["token_s"] for s in samples),
            "median_token_cpu_s": statistics.median(s["token_cpu_s"] for s in samples)}


def cache_files(home: Path) -> list:
    return [(str(p.relative_to(home)), oct(p.stat().st_mode & 0o777)) for p in home.rglob("*") if p.is_file()]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as work:
        server = LocalAzureProcess(sys.executable, Path(work))
        azure = server.start()
        try:
            azure.admin.config(latency_ms=30)
            home = Path(work) / "home"
            home.mkdir(mode=0o700)
            results = [measure(azure, False, runs, home), measure(azure, True, runs, home)]
            results.append({"cache_files": cache_files(home)})
        finally:
            server.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
