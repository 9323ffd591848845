# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""API Management services: create (with their identity in the same request), update, delete, as plain dicts."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ._apim import ApimServices, split_identity_type
from ._apim_identity import IDENTITY_COMPARATORS, USER_ASSIGNED_MODES, IdentityPlanner, IdentityRequest, \
    check_user_assigned_count, identity_patch, service_view  # pylint: disable=unused-import
from ._compare import ci_equal, deep_merge, exact, merge_tags
from ._errors import AzureApimError
from ._lro import OperationStillRunning, still_running
from ._msi import IdentityService, same_location
from ._state import Outcome, ResourceSpec, ensure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

# Tiers API Management offers; the v2 tiers are provisioned in minutes, the classic ones in 30-45 minutes.
SKUS = ("Consumption", "Developer", "Basic", "Standard", "Premium", "Isolated", "BasicV2", "StandardV2", "PremiumV2")
DEFAULT_SKU = "Developer"

SERVICE_COMPARATORS = dict(IDENTITY_COMPARATORS, **{"location": same_location, "tags": exact, "sku.name": ci_equal})


def check_service_params(params: Dict[str, Any]) -> None:
    """Refuse impossible combinations before any call."""
    capacity, sku = params.get("sku_capacity"), params.get("sku_name")
    if capacity is not None and capacity < 0:
        raise AzureApimError("sku_capacity must be 0 or more, not {0}".format(capacity), code="InvalidParameters")
    if sku == "Consumption" and capacity not in (None, 0):
        raise AzureApimError("The Consumption tier has no units: sku_capacity must be 0 or unset, not {0}".format(
            capacity), code="InvalidParameters", hint="drop sku_capacity or pick another sku_name")
    email = params.get("publisher_email")
    if email is not None and ("@" not in email or email.startswith("@") or email.endswith("@")):
        raise AzureApimError("publisher_email {0!r} is not an e-mail address".format(email), code="InvalidParameters")


def default_capacity(sku: str) -> int:
    """Units a new service gets when sku_capacity is unset (Consumption has none)."""
    return 0 if sku == "Consumption" else 1


def create_body(wanted: Dict[str, Any], location: str) -> Dict[str, Any]:
    """The PUT body of a new service, its identity included (the article's ARM template path)."""
    body: Dict[str, Any] = {
        "location": location,
        "sku": dict(wanted["sku"]),
        "properties": {"publisherName": wanted["publisher_name"], "publisherEmail": wanted["publisher_email"]},
        "tags": wanted.get("tags") or {},
    }
    identity = wanted.get("identity")
    if identity and identity["type"] != "None":
        body["identity"] = {"type": identity["type"]}
        if split_identity_type(identity["type"])[1]:
            body["identity"]["userAssignedIdentities"] = {k: {} for k in identity["user_assigned_identities"]}
    return body


def update_body(current: Dict[str, Any], wanted: Dict[str, Any], paths: List[str]) -> Dict[str, Any]:
    """The PATCH body: only the top-level parts that differ."""
    changed = {p.split(".")[0] for p in paths}
    if "location" in changed:
        raise AzureApimError(
            "Service {0} is in {1!r}, not {2!r}; an API Management service cannot move region".format(
                current["name"], current["location"], wanted["location"]),
            code="LocationImmutable", hint="drop 'location', or back up, delete and re-create the service")
    body: Dict[str, Any] = {}
    if "sku" in changed:
        body["sku"] = dict(current.get("sku") or {}, **wanted["sku"])
    for key, arm_key in (("publisher_name", "publisherName"), ("publisher_email", "publisherEmail")):
        if key in changed:
            body.setdefault("properties", {})[arm_key] = wanted[key]
    if "tags" in changed:
        body["tags"] = wanted["tags"]
    if "identity" in changed:
        body["identity"] = identity_patch(current["identity"], wanted["identity"])
    return body


class ServiceManager:
    """Builds the ResourceSpec and desired state of apim_service from its parameters."""

    def __init__(self, module: AzureApimModule) -> None:
        self.module = module
        self.params = module.params
        self.group, self.name = self.params["resource_group"], self.params["name"]
        self.services = ApimServices(module)
        self.planner = IdentityPlanner(module, self.group)
        self.request = IdentityRequest(self.params["system_assigned"], self.params["user_assigned_identities"],
                                       self.params["user_assigned_mode"])
        self._location: Optional[str] = None

    @property
    def what(self) -> str:
        """How messages name the service."""
        return "API Management service {0}/{1}".format(self.group, self.name)

    def read(self) -> Optional[Dict[str, Any]]:
        """The service with its identity list, or None."""
        return service_view(self.services.get(self.group, self.name))

    def location(self) -> str:
        """Where a new service goes: the option, else the resource group's region (reading it proves it exists)."""
        if self._location is None:
            found = IdentityService(self.module).resource_group_location(self.group)
            if not found:
                raise AzureApimError("Resource group {0!r} does not exist in subscription {1}".format(
                    self.group, self.module.subscription_id), code="ResourceGroupNotFound",
                    hint="create it first or fix resource_group")
            self._location = self.params["location"] or found
        return self._location

    def desired(self, current: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """Only what the user set (plus what a create needs); identity removals in use are refused here."""
        p = self.params
        wanted: Dict[str, Any] = {"name": self.name, "location": p["location"],
                                  "publisher_name": p["publisher_name"], "publisher_email": p["publisher_email"],
                                  "sku": {"name": p["sku_name"], "capacity": p["sku_capacity"]},
                                  "tags": merge_tags((current or {}).get("tags"), p["tags"], p["purge_tags"])}
        if current is None:
            self._complete_for_create(wanted)
        if self.request.touches or current is None:
            planned = self.planner.plan((current or {}).get("identity"), self.request)
            if current is not None:
                self.planner.refuse_removal_in_use(current, planned)
            wanted["identity"] = planned
        return wanted

    def _complete_for_create(self, wanted: Dict[str, Any]) -> None:
        self.location()  # a missing resource group is the first thing to report
        missing = [k for k in ("publisher_name", "publisher_email") if not wanted.get(k)]
        if missing:
            raise AzureApimError("{0} does not exist; creating it needs {1}".format(self.what, " and ".join(missing)),
                                 code="InvalidParameters", hint="set {0}".format(" and ".join(missing)))
        sku = wanted["sku"]["name"] or DEFAULT_SKU
        capacity = wanted["sku"]["capacity"]
        wanted["sku"] = {"name": sku, "capacity": default_capacity(sku) if capacity is None else capacity}
        wanted["tags"] = wanted["tags"] or {}

    def create(self, wanted: Dict[str, Any]) -> None:
        """PUT the service and wait through Created/Activating; on timeout report the state reached."""
        try:
            self.services.create(self.group, self.name, create_body(wanted, self.location()))
        except OperationStillRunning:
            raise self._still_running() from None

    def _still_running(self) -> OperationStillRunning:
        current = self.services.get(self.group, self.name) or {}
        return still_running(self.what, current.get("provisioning_state"), self.module.deadline)

    def update(self, current: Dict[str, Any], wanted: Dict[str, Any], paths: List[str]) -> None:
        """PATCH what differs and wait for the update."""
        try:
            self.services.patch(self.group, self.name, update_body(current, wanted, paths))
        except OperationStillRunning:
            raise self._still_running() from None

    def delete(self, current: Dict[str, Any]) -> None:
        """DELETE and wait until the service is gone."""
        self.services.delete(self.group, self.name)

    def predict(self, current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Dict[str, Any]:
        """What check mode reports: a new service has no ids or URLs yet."""
        base = current or {"id": None, "name": self.name, "resource_group": self.group, "location": self.location(),
                           "tags": {}, "sku": None, "provisioning_state": None, "gateway_url": None,
                           "hostname_configurations": []}
        plain = {k: v for k, v in wanted.items() if k not in ("identity", "location")}
        result = deep_merge(base, plain)
        if "tags" in wanted:
            result["tags"] = dict(wanted["tags"])
        if "identity" in wanted:
            result["identity"] = self.planner.predict((current or {}).get("identity"), wanted["identity"])
        return result

    def spec(self) -> ResourceSpec:
        """The ResourceSpec ensure() runs."""
        return ResourceSpec(what=self.what, read=self.read, create=self.create, update=self.update,
                            delete=self.delete, predict=self.predict, comparators=SERVICE_COMPARATORS)


def service_result(outcome: Outcome) -> Dict[str, Any]:
    """Module result of apim_service."""
    return outcome.result("service")


def ensure_service(module: AzureApimModule) -> Dict[str, Any]:
    """apim_service: ensure the service's state (and its identities) and return the module result."""
    params = module.params
    if params["tags"] is not None:
        params["tags"] = {str(k): str(v) for k, v in params["tags"].items()}
    check_service_params(params)
    check_user_assigned_count(params["user_assigned_identities"])
    manager = ServiceManager(module)
    outcome = ensure(manager.spec(), params["state"], manager.desired, check_mode=module.check_mode,
                     deadline=module.deadline)
    return service_result(outcome)


def find_services(module: AzureApimModule) -> Dict[str, Any]:
    """apim_service_info: the one service named (or none), else those of the group or subscription."""
    params = module.params
    services = ApimServices(module)
    if params["name"]:
        if not params["resource_group"]:
            raise AzureApimError("name requires resource_group", code="InvalidParameters",
                                 hint="set resource_group, or drop name to list every service")
        found = services.get(params["resource_group"], params["name"])
        listed: List[Dict[str, Any]] = [found] if found else []
    else:
        listed = services.list(params["resource_group"])
    return {"changed": False, "services": [service_view(s) for s in listed]}
