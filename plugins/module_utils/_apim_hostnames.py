# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Custom-domain hostname configurations of an API Management service (plain dicts in and out).

APIM keeps all hostnames of a service in one list (``properties.hostnameConfigurations``) that is replaced as a
whole by every write. A task manages only the entries it names: it computes a small delta ("this entry must look
like this", "that one must be gone"), merges it into a freshly read list so every other entry survives,
PATCHes only ``hostnameConfigurations`` (guarded by the service ETag), waits, re-reads and re-merges when a
concurrent writer dropped something.
"""
from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ._access import resolve_planned
from ._apim_hostname_entries import (  # pylint: disable=unused-import
    absent_entry, apply_delta, BUILTIN_SUFFIXES, canonical_type, Delta, delta_satisfied, Entry, entry_key,
    entry_satisfied, exclusive_removals, EXPIRY_WARNING_DAYS, find_entry, HOSTNAME_TYPES, inline_entry,
    is_builtin, keyvault_entry, OPTIONAL_FLAGS, predicted_entries, public_entry, quoted_etag, RERUN_ON,
    SECRET_KEYS, SOURCE_BUILTIN, SOURCE_CUSTOM, SOURCE_KEYVAULT, to_model,
)
from ._apim import service_to_dict
from ._arm import OperationGroup
from ._errors import AzureApimError
from ._ids import SecretUri, parse_secret_uri
from ._lro import is_transitional, provisioning_state, wait_until_settled
from ._pfx import read_pfx_info
from ._kv_propagation import until_accepted
from ._retry import Deadline
from ._secret_access import keyvault_secret_uri, refuse_keyvault_problems
from ._state import ResourceSpec, ensure, first_then_fresh

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule


class HostnameService(OperationGroup):
    """Reads a service's hostname list and writes it back through an AzureApimModule."""

    client_name, operations = "apim", "api_management_service"

    def __init__(self, module: AzureApimModule, resource_group: str, service_name: str) -> None:
        super().__init__(module)
        self.resource_group = resource_group
        self.service_name = service_name
        self.what = "API Management service {0}/{1}".format(resource_group, service_name)

    def read(self) -> Optional[Dict[str, Any]]:
        """The service as a plain dict (``hostname_configurations``, ``identity``, ``etag``…), None when absent."""
        model = self.module.read(self._ops.get, self.resource_group, self.service_name, what="reading " + self.what)
        if model is None:
            return None
        service = service_to_dict(model)
        service["etag"] = getattr(model, "etag", None)
        return service

    def require(self, settle: bool = False) -> Dict[str, Any]:
        """The service (once no operation runs on it when ``settle``), or a clear error when it does not exist."""
        service = self.settled() if settle else self.read()
        if service is None:
            raise AzureApimError(
                "API Management service {0!r} was not found in resource group {1!r} of subscription {2}".format(
                    self.service_name, self.resource_group, self.module.subscription_id),
                status=404, code="ServiceNotFound", hint="check resource_group and service_name")
        return service

    def patch(self, entries: Sequence[Entry], etag: Optional[str]) -> Optional[Dict[str, Any]]:
        """PATCH only ``hostnameConfigurations`` (the whole new list) and wait for APIM to apply it.

        Returns the service the operation ended with (the SDK's final GET of the service once the operation
        completed), or None when the operation gave no body.
        """
        from azure.mgmt.apimanagement import models

        body = models.ApiManagementServiceUpdateParameters(
            hostname_configurations=[to_model(e, models) for e in entries])
        for attribute in body._attribute_map:  # pylint: disable=protected-access
            # The SDK model fills in defaults (disableGateway false, developerPortalStatus Enabled, ...) that a
            # PATCH would apply; only the hostname list may be sent.
            if attribute != "hostname_configurations":
                setattr(body, attribute, None)
        headers = {"If-Match": quoted_etag(etag)} if etag else {}
        model = self.module.lro(self._ops.begin_update, self.resource_group, self.service_name, body,
                                headers=headers, what="updating the hostnames of " + self.what)
        if model is None or not hasattr(model, "hostname_configurations"):
            return None
        service = service_to_dict(model)
        service["etag"] = getattr(model, "etag", None)
        return service

    def settled(self, known: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
        """The service once no operation runs on it: ``known`` (a service just returned by Azure) when it is
        already settled, else fresh reads."""
        if known is not None and not is_transitional(provisioning_state(known)):
            return known
        return wait_until_settled(self.read, self.module.deadline, self.what)


def write_delta(svc: HostnameService, current: Dict[str, Any], delta: Delta,
                warn: Callable[[str], None]) -> Dict[str, Any]:
    """Merge ``delta`` into ``current``'s list, PATCH, re-read; if a concurrent writer dropped an entry we sent
    (ours or a foreign one), merge it back and write again until everything is there or the deadline passes.

    Returns the settled service after the last write. 409 (busy) and 412 (ETag) propagate to the caller, whose
    whole read -> merge -> write cycle then runs again.
    """
    deadline: Deadline = svc.module.deadline
    pending = list(delta)
    while True:
        new_list, changed = apply_delta(current["hostname_configurations"], pending)
        written = svc.patch(new_list, current.get("etag")) if changed else None
        after = svc.settled(written)
        if after is None:
            raise AzureApimError("{0} disappeared while its hostnames were being changed".format(svc.what),
                                 code="ServiceNotFound")
        dropped = _dropped(new_list, after["hostname_configurations"], pending)
        if not dropped and delta_satisfied(pending, after["hostname_configurations"]):
            return after
        if deadline.expired():
            raise AzureApimError(
                "Another writer kept changing the hostnames of {0}; these are still missing: {1}".format(
                    svc.what, ", ".join(e["host_name"] for e in dropped) or "this task's entry"),
                code="ConcurrentHostnameChange", hint="re-run the task when the other automation has finished")
        warn("Another writer changed the hostnames of {0} during this task; merging again to restore {1}".format(
            svc.what, ", ".join(e["host_name"] for e in dropped) or "this task's entry"))
        known = {entry_key(p) for p in pending}
        pending += _restorable([e for e in dropped if entry_key(e) not in known], svc.what)
        current = after


def _dropped(sent: Sequence[Entry], now: Sequence[Entry], delta: Delta) -> List[Entry]:
    """Entries we sent that are no longer there (built-in and deliberately removed ones excepted)."""
    removed = {entry_key(d) for d in delta if d.get("absent")}
    return [e for e in sent if entry_key(e) not in removed and not is_builtin(e)
            and find_entry(now, entry_key(e)) is None]


def _restorable(dropped: Sequence[Entry], what: str) -> Delta:
    """Instructions that put dropped entries back; an uploaded certificate cannot be re-sent without its PFX."""
    restore: Delta = []
    for entry in dropped:
        if entry.get("certificate_source") == SOURCE_CUSTOM and not entry.get("encoded_certificate"):
            raise AzureApimError(
                "Hostname {0} (an uploaded certificate) was removed from {1} by another writer while this task "
                "ran; it cannot be restored without its PFX".format(entry["host_name"], what),
                code="ConcurrentHostnameChange", hint="upload it again, then re-run this task")
        restore.append(dict({k: v for k, v in entry.items() if k != "certificate"}, restore=True))
    return restore


# ----------------------------------------------------------------------------------------------------------------
# the entry a task asks for (Key Vault checks in _secret_access)
# ----------------------------------------------------------------------------------------------------------------


def secret_named_by_current(current: Optional[Entry], vault_ref: Optional[str], secret_name: Optional[str],
                            secret_version: Optional[str]) -> Optional[SecretUri]:
    """The current entry's secret id when it already names ``vault_ref`` + ``secret_name`` (+ version), else None.

    Key Vault names are unique within a cloud, so the vault in the current URL is the one ``vault_ref`` names (by
    name or resource id): an unchanged hostname needs no vault lookup to build its secret id.
    """
    if not current or not current.get("key_vault_id") or not vault_ref or not secret_name:
        return None
    try:
        secret = parse_secret_uri(current["key_vault_id"])
    except AzureApimError:
        return None
    vault_name = str(vault_ref).strip().rstrip("/").rsplit("/", 1)[-1]
    if secret.vault_name.lower() != vault_name.lower() or secret.name.lower() != str(secret_name).lower():
        return None
    if (secret.version or "").lower() != str(secret_version or "").lower():
        return None
    return secret


def _inline_pfx(params: Dict[str, Any]) -> Optional[str]:
    if params["certificate"]:
        return params["certificate"]
    if not params["certificate_path"]:
        return None
    try:
        with open(params["certificate_path"], "rb") as handle:
            return base64.b64encode(handle.read()).decode("ascii")
    except OSError as err:
        message = "Cannot read certificate_path {0!r}: {1}".format(params["certificate_path"], err.strerror)
        raise AzureApimError(message, code="CertificateFileUnreadable",
                             hint="check the path on the host running the task")


def our_entry(module: AzureApimModule, service: Dict[str, Any], p: Dict[str, Any],
              young: Optional[List[Dict[str, Any]]] = None) -> Entry:
    """One requested hostname (options ``p``), validated against Azure (refusals are raised here, before any
    write). RBAC grants it relies on that may not have propagated yet are appended to ``young``."""
    if is_builtin({"host_name": p["host_name"]}):
        raise AzureApimError("{0} is the service's built-in hostname; its certificate is managed by Azure".format(
            p["host_name"]), code="BuiltInHostname", hint="bind a custom domain you own instead")
    if p["state"] == "absent":
        return absent_entry(p["type"], p["host_name"])
    pfx = _inline_pfx(p)
    if pfx is not None:
        info = read_pfx_info(pfx, p["certificate_password"])
        return inline_entry(p["type"], p["host_name"], pfx, p["certificate_password"], info,
                            p["default_ssl_binding"], p["negotiate_client_certificate"])
    identity = resolve_planned(module, service, p["identity"] or "system")
    current = find_entry(service["hostname_configurations"],
                         entry_key({"type": canonical_type(p["type"]), "host_name": p["host_name"]}))
    vault = None
    if p["key_vault_secret_id"]:
        secret = parse_secret_uri(p["key_vault_secret_id"])  # refuses a /certificates/ URL with the /secrets/ form
    else:
        secret = secret_named_by_current(current, p["key_vault"], p["secret_name"], p["secret_version"])
        if secret is None:
            secret, vault = keyvault_secret_uri(module, None, p["key_vault"], p["secret_name"], p["secret_version"])
    entry = keyvault_entry(p["type"], p["host_name"], secret, identity, p["default_ssl_binding"],
                           p["negotiate_client_certificate"])
    if not entry_satisfied(entry, current):
        # Only a change is checked against Key Vault: an idempotent run reads nothing there.
        if vault is None:
            secret, vault = keyvault_secret_uri(module, secret.uri, p["key_vault"], None, None)
        pending = refuse_keyvault_problems(module, service, identity, secret, vault)
        if young is not None:
            young.extend(pending)
    if secret.version:
        module.warn("{0} pins version {1} of the certificate: automatic rotation is off (API Management follows "
                    "renewals within 4 hours only for a versionless secret id)".format(p["host_name"], secret.version))
    return entry


# ----------------------------------------------------------------------------------------------------------------
# apim_custom_domain: the requested hostnames, validated together, as one delta written through the engine
# ----------------------------------------------------------------------------------------------------------------

Key = Tuple[str, str]


def requested(module: AzureApimModule, entry_options: Iterable[str]) -> List[Dict[str, Any]]:
    """The hostname options of this task: the ``hostnames`` entries, or the top-level options as one entry."""
    p = module.params
    if p["hostnames"] is not None:
        return list(p["hostnames"])
    return [{name: p[name] for name in entry_options}]


def entry_label(options: Dict[str, Any]) -> str:
    """How messages name one requested hostname."""
    return "{0} {1}".format(options.get("type") or "Proxy", options.get("host_name"))


def refuse_conflicts(entries: List[Dict[str, Any]]) -> None:
    """Refuse a list APIM could never hold as asked: the same (type, host name) twice, or two default Proxy
    certificates (APIM keeps one default for clients without SNI)."""
    seen: Dict[Key, str] = {}
    for options in entries:
        key = entry_key({"type": canonical_type(options.get("type") or "Proxy"),
                         "host_name": options.get("host_name")})
        if key in seen:
            raise AzureApimError(
                "hostnames lists {0} twice ({1} and {2}); nothing was changed".format(
                    entry_label(options), seen[key], entry_label(options)),
                code="DuplicateHostname", hint="keep one entry per type and host name")
        seen[key] = entry_label(options)
    defaults = [entry_label(o) for o in entries if o.get("state", "present") == "present"
                and o.get("default_ssl_binding") and canonical_type(o.get("type") or "Proxy") == "Proxy"]
    if len(defaults) > 1:
        raise AzureApimError(
            "Only one Proxy hostname can be the default SSL binding; hostnames asks it of {0}; nothing was "
            "changed".format(", ".join(defaults)),
            code="ConflictingDefaultSslBinding", hint="set default_ssl_binding: true on one Proxy entry only")


def our_entries(module: AzureApimModule, service: Dict[str, Any], requests: List[Dict[str, Any]],
                young: Optional[List[Dict[str, Any]]] = None) -> Delta:
    """Every requested hostname validated; all refusals are collected and raised together, before any write."""
    entries: Delta = []
    refusals: List[Tuple[str, AzureApimError]] = []
    for options in requests:
        try:
            entries.append(our_entry(module, service, options, young))
        except AzureApimError as err:
            refusals.append((entry_label(options), err))
    if refusals:
        raise _refused(refusals, single=module.params["hostnames"] is None)
    return entries


def _refused(refusals: List[Tuple[str, AzureApimError]], single: bool) -> AzureApimError:
    """The single form raises its one refusal unchanged; the list form names each refused entry."""
    first = refusals[0][1]
    if single:
        return first
    message = "{0} of the hostnames cannot be bound; nothing was changed: {1}".format(
        len(refusals), " | ".join("{0}: {1}".format(label, err.full_message()) for label, err in refusals))
    return AzureApimError(message, status=first.status, code=first.code,
                          refused=[{"hostname": label, "error_code": err.code, "msg": err.msg}
                                   for label, err in refusals])


def delta_for(module: AzureApimModule, service: Dict[str, Any], requests: List[Dict[str, Any]],
              young: Optional[List[Dict[str, Any]]] = None) -> Delta:
    """Our entries plus, in exclusive mode, the removal of every other custom hostname not kept."""
    p = module.params
    ours = our_entries(module, service, requests, young)
    delta = list(ours)
    if p["exclusive"]:
        delta += exclusive_removals(service["hostname_configurations"], [entry_key(e) for e in ours],
                                    p["keep_host_names"])
    return delta


def write_when_propagated(module: AzureApimModule, svc: HostnameService, current: Dict[str, Any],
                          delta: Delta, young: List[Dict[str, Any]]) -> Dict[str, Any]:
    """write_delta, repeated while API Management cannot read Key Vault yet because an RBAC grant this task relies
    on is younger than Azure's propagation window (a refused PATCH changes nothing, so it is simply sent again)."""
    def waiting(pause: float) -> None:
        module.debug("Key Vault RBAC grant not effective yet; retrying the hostname write in {0:.0f} s".format(pause))

    return until_accepted(lambda: (True, write_delta(svc, current, delta, module.warn)), young,
                          module.deadline, "updating the hostnames of " + svc.what, on_wait=waiting)


def spec_for(module: AzureApimModule, svc: HostnameService, delta: Delta,
             first: Optional[Dict[str, Any]] = None, young: Optional[List[Dict[str, Any]]] = None) -> ResourceSpec:
    """The service's hostname list as the resource; the delta is compared, merged and written."""
    return ResourceSpec(
        what=svc.what,
        read=first_then_fresh(first, svc.read),
        update=lambda current, wanted, paths: write_when_propagated(module, svc, current, delta, young or []),
        predict=lambda current, wanted: dict(
            current or {}, hostname_configurations=predicted_entries(
                apply_delta((current or {})["hostname_configurations"], delta)[0])),
        comparators={"hostname_configurations": delta_satisfied},
        secret_keys=SECRET_KEYS,
        rerun_on=RERUN_ON,
        # write_delta returns the service as read once APIM finished applying the write: that is the verification.
        verify_with_response=True,
    )


def _public_after(module: AzureApimModule, entries: List[Entry], key: Key) -> Entry:
    ours = find_entry(entries, key) or {}
    days = ours.get("expires_in_days")
    if isinstance(days, int) and days < EXPIRY_WARNING_DAYS:
        module.warn("The certificate of {0} expires in {1} days ({2})".format(
            ours["host_name"], days, (ours.get("certificate") or {}).get("expiry")))
    return ours


def result_for(module: AzureApimModule, changed: bool, before: Dict[str, Any], after: Dict[str, Any],
               ours: Delta) -> Dict[str, Any]:
    """Module result: our entries, the whole list, what was removed and a diff of the list (no secrets)."""
    entries = [public_entry(e) for e in after.get("hostname_configurations") or []]
    mine = [_public_after(module, entries, entry_key(e)) for e in ours]
    removed = [e["host_name"] for e in before.get("hostname_configurations") or []
               if find_entry(entries, entry_key(e)) is None]
    result = {
        "changed": changed,
        "hostname": mine[0] if mine else {},
        "hostname_configurations": entries,
        "removed_host_names": removed,
        "diff": {"before": {"hostname_configurations": [public_entry(e) for e in
                                                        before.get("hostname_configurations") or []]},
                 "after": {"hostname_configurations": entries}},
    }
    if module.params["hostnames"] is not None:
        result["hostnames"] = mine
    return result


def ensure_custom_domains(module: AzureApimModule, entry_options: Iterable[str]) -> Dict[str, Any]:
    """apim_custom_domain: validate every requested hostname, then ensure the list holds them (and only the kept
    ones when exclusive) with one write."""
    p = module.params
    requests = requested(module, entry_options)
    refuse_conflicts(requests)  # before any call to Azure
    svc = HostnameService(module, p["resource_group"], p["service_name"])
    service = svc.require(settle=True)  # also ensure()'s first read: one GET on a no-op
    young: List[Dict[str, Any]] = []
    delta = delta_for(module, service, requests, young)
    ours = delta[:len(requests)]
    outcome = ensure(spec_for(module, svc, delta, first=service, young=young), "present",
                     {"hostname_configurations": delta},
                     check_mode=module.check_mode, deadline=module.deadline)
    return result_for(module, outcome.changed, outcome.before or {}, outcome.after or {}, ours)
