"""The admin interface of the local Azure (`/_admin/...`, never an ARM path, no token needed); world seeding is in
`emulator.seeding` (its entry points stay importable from here).

Endpoints: POST reset, POST seed (world JSON or YAML), GET state, GET/DELETE requests, POST/GET/DELETE faults,
GET/POST config (latency_ms, time_scale, durations, `advance_s` to move the Azure clock forward).

"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from typing import Any

import yaml
from flask import Blueprint, Response, current_app, jsonify, request

from emulator import authorization, throttle
from emulator.seeding import build_apim_service, build_secret, build_vault, principal_ref, read_world_file, seed_world
from emulator.world import DEFAULT_CONFIG, World, mask_secrets, new_guid

# Seeding moved to emulator.seeding; these names stay importable from here.
__all__ = ["AUTOMATION_NAME", "bootstrap", "build_apim_service", "build_secret", "build_vault", "dump_json",
           "principal_ref", "read_world_file", "reset_world", "seed_world"]

bp = Blueprint("admin", __name__, url_prefix="/_admin")

AUTOMATION_NAME = "automation"


# --- bootstrap: the automation service principal every client signs in as ------------------------------------------


def bootstrap(w: World) -> dict[str, Any]:
    """(Re)create the automation service principal (Owner on the subscription) with stable credentials."""
    with w.lock:
        if not w.automation:
            w.automation = {"client_id": new_guid(), "client_secret": secrets.token_urlsafe(32),
                            "object_id": new_guid(), "identity_header": secrets.token_urlsafe(16),
                            "host_identity_object_id": new_guid()}
        auto = w.automation
        # The managed identity of the machine running Ansible (auth_source msi), also Owner on the subscription.
        host = w.new_principal("controller-host", "ManagedIdentity", object_id=auto["host_identity_object_id"])
        host["created_at"] = -1e9
        authorization.assign(w, w.subscription_scope(), "Owner", host["object_id"],
                             name=str(uuid.uuid5(uuid.NAMESPACE_URL, host["object_id"])))
        principal = w.new_principal(AUTOMATION_NAME, "ServicePrincipal", client_secret=auto["client_secret"],
                                    object_id=auto["object_id"], app_id=auto["client_id"])
        principal["created_at"] = -1e9  # long replicated
        authorization.assign(w, w.subscription_scope(), "Owner", auto["object_id"],
                             name=str(uuid.uuid5(uuid.NAMESPACE_URL, auto["object_id"])))
        # Both identities manage the tenant's second subscription too (a fleet spans subscriptions).
        for object_id in (host["object_id"], auto["object_id"]):
            authorization.assign(w, f"/subscriptions/{w.second_subscription_id}", "Owner", object_id,
                                 name=str(uuid.uuid5(uuid.NAMESPACE_URL, "2/" + object_id)))
        return principal


def reset_world(w: World) -> None:
    """Empty the world (keeping ids, config and the automation credentials) and bootstrap again."""
    with w.lock:
        w.clear()
        w.rebase_clock()
        throttle.reset(w)
        bootstrap(w)


# --- routes -----------------------------------------------------------------------------------------------------


def _world() -> World:
    return current_app.config["WORLD"]


@bp.post("/reset")
def reset() -> Response:
    """Empty the world."""
    reset_world(_world())
    return jsonify({"reset": True})


@bp.post("/seed")
def seed() -> Response:
    """Seed from a JSON or YAML world description in the body."""
    raw = request.get_data(as_text=True)
    try:
        spec = yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        return jsonify({"error": f"the world description is not valid YAML/JSON: {exc}"}), 400
    try:
        summary = seed_world(_world(), spec)
    except (KeyError, ValueError, TypeError) as exc:
        return jsonify({"error": f"cannot seed the world: {exc!r}"}), 400
    return jsonify(summary)


@bp.get("/state")
def state() -> Response:
    """Everything the world holds (secret values masked)."""
    return jsonify(_world().snapshot())


def _world_log(path: str, attr: str) -> None:
    """GET /_admin/<path> lists one of the world's logs, DELETE forgets it."""
    def read() -> Response:
        w = _world()
        with w.lock:
            return jsonify({path: list(getattr(w, attr))})

    def forget() -> Response:
        w = _world()
        with w.lock:
            getattr(w, attr).clear()
        return jsonify({"cleared": True})

    bp.add_url_rule(f"/{path}", f"get_{path}", read, methods=["GET"])
    bp.add_url_rule(f"/{path}", f"clear_{path}", forget, methods=["DELETE"])


_world_log("requests", "requests")  # the request log (bodies already masked)
_world_log("tokens", "issued_tokens")  # every access token issued since start (for tests proving no token leaks)


FAULT_KEYS = {"method", "path", "status", "headers", "body", "times", "probability", "drop_connection",
              "apply_then_fail", "fail_operation", "delay_s", "concurrent_write"}
# Keys of rules that act before the request is served (a slow answer, another writer getting in first); without a
# `status` such a rule then lets the request be served as usual instead of answering for it.
PASS_THROUGH_KEYS = frozenset({"delay_s", "concurrent_write"})
# Header marking the request of the "other writer" a `concurrent_write` rule sends (logged with `actor`).
ACTOR_HEADER = "X-Local-Azure-Actor"
CONCURRENT_WRITER = "concurrent-writer"


@bp.post("/faults")
def add_fault() -> Response:
    """Add a fault rule: method + path regex → status/headers/body, `times` or `probability`; `delay_s` holds the
    answer (a slow or hanging endpoint), `concurrent_write` lets another writer change the resource first."""
    rule = request.get_json(force=True, silent=True)
    if not isinstance(rule, dict) or set(rule) - FAULT_KEYS:
        return jsonify({"error": f"a fault rule is an object with keys among {sorted(FAULT_KEYS)}"}), 400
    other = rule.get("concurrent_write")
    if other is not None and not (isinstance(other, dict) and other.get("path") and other.get("method")):
        return jsonify({"error": "concurrent_write is {method, path, [api_version], [body], [settle]}"}), 400
    defaults = {"method": "*", "path": ".*"} if PASS_THROUGH_KEYS & set(rule) else {
        "method": "*", "path": ".*", "status": 500}
    rule = {**defaults, **rule, "id": new_guid(), "hits": 0}
    rule["method"] = rule["method"].upper()
    w = _world()
    with w.lock:
        w.faults.append(rule)
    return jsonify(rule), 201


def before_serving(w: World, rule: dict) -> None:
    """What a matched rule does before the request is served: another writer's request, then the hold."""
    if rule.get("concurrent_write"):
        _concurrent_write(w, rule["concurrent_write"])
    if rule.get("delay_s"):
        _hold(w, rule["id"], float(rule["delay_s"]))


def _hold(w: World, rule_id: str, seconds: float) -> None:
    """Keep the client waiting (wall clock) for `seconds`, or until the rule is cleared: a hanging endpoint that
    a test can release, so the server thread never outlives the scenario."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with w.lock:
            if not any(r["id"] == rule_id for r in w.faults):
                return
        time.sleep(min(0.1, max(0.0, end - time.monotonic())))


def _concurrent_write(w: World, spec: dict) -> None:
    """Another writer sends `spec` (method, path, api_version, body) through the local Azure's own handlers, as the
    caller of the matched request, after that caller's read and before its write is served; `settle` finishes the
    long-running operation that write starts (the other writer's change is complete when ours arrives)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    headers = {ACTOR_HEADER: CONCURRENT_WRITER, "Authorization": request.headers.get("Authorization", "")}
    query = {"api-version": spec["api_version"]} if spec.get("api_version") else {}
    base_url = request.host_url  # same host as the caller's: the token's audience and the ids' base stay valid
    with w.lock:
        known = set(w.operations)
    answer: dict[str, Any] = {}

    def send() -> None:  # a thread of its own: its own request and application context
        response = app.test_client().open(spec["path"], method=spec["method"].upper(), json=spec.get("body"),
                                          query_string=query, headers=headers, base_url=base_url)
        answer["status"] = response.status_code

    thread = threading.Thread(target=send, name="concurrent-writer")
    thread.start()
    thread.join(timeout=60)
    if spec.get("settle"):
        with w.lock:
            for op_id, op in w.operations.items():
                if op_id not in known and not op.done:
                    op.due = min(op.due, w.now())
            w.tick()


@bp.get("/faults")
def list_faults() -> Response:
    """Current fault rules with their hit counts."""
    w = _world()
    with w.lock:
        return jsonify({"faults": [dict(r) for r in w.faults]})


@bp.delete("/faults")
def clear_faults() -> Response:
    """Remove every fault rule."""
    w = _world()
    with w.lock:
        w.faults.clear()
    return jsonify({"cleared": True})


@bp.get("/config")
def get_config() -> Response:
    """Latency, time scale and durations."""
    return jsonify(dict(_world().config))


@bp.post("/config")
def set_config() -> Response:
    """Change latency, time scale, durations; `advance_s` moves the Azure clock forward."""
    values = request.get_json(force=True, silent=True)
    if not isinstance(values, dict):
        return jsonify({"error": "send a JSON object"}), 400
    unknown = set(values) - set(DEFAULT_CONFIG) - {"advance_s"}
    if unknown:
        return jsonify({"error": f"unknown settings {sorted(unknown)}; known: {sorted(DEFAULT_CONFIG)}"}), 400
    return jsonify(_world().set_config(values))


@bp.post("/federated-token")
def mint_federated_token() -> Response:
    """A token from the local external issuer for `subject` (put it in AZURE_FEDERATED_TOKEN_FILE)."""
    from emulator import entra

    spec = request.get_json(force=True, silent=True) or {}
    if not spec.get("subject"):
        return jsonify({"error": "send {\"subject\": ..., [\"audience\"], [\"lifetime_s\"]}"}), 400
    token = entra.federated_token(spec["subject"], spec.get("audience", entra.TOKEN_EXCHANGE_AUDIENCE),
                                  int(spec.get("lifetime_s", 3600)))
    return jsonify({"token": token, "issuer": entra.issuer_url()})


@bp.get("/principals")
def get_principals() -> Response:
    """Entra principals (secrets masked)."""
    return jsonify(_world().snapshot()["principals"])


def dump_json(data: Any) -> str:
    """JSON with secrets masked (for printing summaries)."""
    return json.dumps(mask_secrets(data), indent=2)
