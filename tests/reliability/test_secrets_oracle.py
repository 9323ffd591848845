# Private to the azure_apim.identity test suite.
"""The secrets oracle over a real ansible-playbook run at -vvvv with the Azure SDK loggers at DEBUG.

Every secret the playbook handles (client secret, a wrong client secret, PFX password, PFX base64, plain named-value
secret, Event Hub connection string and its SharedAccessKey) and every bearer token the local Azure issued is
searched for in stdout, stderr, the callback's JSON (module results, diffs, error messages) and the SDK debug log.
The module runs of the other scenarios are searched the same way as they happen (see conftest.Rel.run).
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from pathlib import Path

from integration.harness import REPO_ROOT, run_playbook
from reliability.conftest import ORACLE, require_modules
from reliability.runner import SITE_DIR
from reliability.worlds import FAST, RG, SERVICE, rel_world

require_modules("apim_named_value", "apim_logger", "apim_custom_domain")

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "rel_secrets.yml"


def test_no_secret_in_anything_a_verbose_playbook_run_produces(rel, tmp_path):
    from emulator.pfx import make_pfx_b64

    rel.seed(rel_world(), **FAST)
    password = "Pfx-" + secrets.token_urlsafe(12)
    values = {
        "rel_rg": RG, "rel_service": SERVICE,
        "rel_nv_secret": "nv-" + secrets.token_urlsafe(18),
        "rel_pfx": make_pfx_b64("inline.rel.contoso.com", password=password),
        "rel_pfx_password": password,
        "rel_wrong_secret": "Wrong-" + uuid.uuid4().hex,
    }
    sas = secrets.token_urlsafe(24)
    values["rel_connection_string"] = ("Endpoint=sb://evhns-rel.servicebus.windows.net/;SharedAccessKeyName=send;"
                                       f"SharedAccessKey={sas}")
    kinds = {"rel_nv_secret": "named-value secret", "rel_pfx": "PFX base64", "rel_pfx_password": "PFX password",
             "rel_wrong_secret": "client secret", "rel_connection_string": "Event Hub connection string"}
    for key, kind in kinds.items():
        ORACLE.add_secret(kind, values[key])
    ORACLE.add_secret("SharedAccessKey", sas)
    ORACLE.add_secret("client secret", rel.azure.client_secret)

    sdk_log = tmp_path / "sdk-debug.log"
    env = {"PYTHONPATH": os.pathsep.join([str(SITE_DIR), str(REPO_ROOT / "tests")]),
           "AZURE_APIM_TEST_SDK_LOG": str(sdk_log), "AZURE_LOG_LEVEL": "debug"}
    run = run_playbook(rel.azure, PLAYBOOK, tmp_path / "run", extra_vars=values, diff=True, verbosity=4, env=env)
    assert run.rc == 0, run.explain()

    # The run did what it says (so the oracle searched real output, failures included).
    assert run.task("Plain secret named value")["changed"] is True
    too_long = run.task("Named value too long for Azure (the error must not show the value)")
    assert too_long["_status"] == "failed", too_long
    assert run.task("Event Hub logger with a connection string")["changed"] is True
    inline = run.task("Custom domain with an inline PFX and its password")
    assert inline["changed"] is True and inline["hostname"]["certificate_source"] == "Custom"
    wrong_password = run.task("Inline PFX with the wrong password (the error must not show either)")
    assert wrong_password["_status"] == "failed", wrong_password
    wrong = run.task("Wrong client secret given as a module option")
    assert wrong["_status"] == "failed" and "secret" in wrong["msg"].lower(), wrong
    assert "-vvvv" in " ".join(run.command) and "<localhost> EXEC" in run.stdout, "the run was not verbose"
    assert sdk_log.exists() and "azure.core" in sdk_log.read_text(encoding="utf-8"), "SDK debug log missing"

    ORACLE.add_secrets("bearer token", rel.admin.issued_tokens())
    texts = {"playbook stdout (-vvvv)": run.stdout, "playbook stderr": run.stderr,
             "callback JSON (results, diffs, errors)": json.dumps(run.result),
             "SDK debug log (playbook)": sdk_log.read_text(encoding="utf-8", errors="replace")}
    hits = [hit for origin, text in texts.items() for hit in ORACLE.add_text(origin, text)]
    assert not hits, [(h.kind, h.origin, h.excerpt) for h in hits]
    # Everything searched so far, again, now that every token issued in the session is known.
    assert ORACLE.rescan() == [], [(h.kind, h.origin, h.excerpt) for h in ORACLE.hits]
