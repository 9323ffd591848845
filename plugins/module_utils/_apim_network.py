# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Capability of apim_subnet_service_endpoint and apim_nsg_outbound_rules: the service's subnet and the specs of
one subnet's service endpoints and one NSG rule (see _state.ensure)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ._apim import ApimServices
from ._errors import AzureApimError
from ._ids import parse_resource_id
from ._network import (
    SUBNET_TYPE, NetworkService, allows_outbound, endpoints_equal, rule_name, rule_properties, rule_to_dict,
)
from ._retry import APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED
from ._state import ResourceSpec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule


def apim_subnet_id(module: AzureApimModule, resource_group: str, service_name: str) -> str:
    """The subnet an API Management service is deployed in; a clear error when it is not in a virtual network."""
    service = ApimServices(module).require(resource_group, service_name)
    if not service.get("subnet_id") or str(service.get("virtual_network_type") or "None").lower() == "none":
        raise AzureApimError("API Management service {0!r} is not deployed in a virtual network".format(service_name),
                             code="NotInVirtualNetwork",
                             hint="service endpoints and NSG rules only matter for services in External or "
                                  "Internal virtual network mode")
    return service["subnet_id"]


def subnet_endpoint_spec(service: NetworkService, subnet_id: str) -> Any:
    """A ResourceSpec over the subnet whose only managed field is its service endpoint list."""
    holder: Dict[str, Any] = {}

    def read() -> Optional[Dict[str, Any]]:
        holder["subnet"] = service.get_subnet(subnet_id)
        return holder["subnet"]

    def update(current: Dict[str, Any], wanted: Dict[str, Any], paths: List[str]) -> None:
        service.put_subnet(holder["subnet"], wanted["service_endpoints"])

    return ResourceSpec(
        what="subnet " + subnet_id.rsplit("/", 1)[-1], read=read, update=update,
        predict=lambda current, wanted: dict(current or {}, **wanted),
        comparators={"service_endpoints": endpoints_equal},
        rerun_on=(APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED),
    )


def nsg_rule_spec(service: NetworkService, nsg_id: str, tag: str, port: int, planned: Dict[str, Any],
                  owned_only: bool = False) -> Any:
    """A ResourceSpec for "the subnet may reach ``tag`` on ``port``": our named rule, or an equivalent one.

    ``owned_only`` (removal) looks at our named rule only, so an equivalent rule someone else made is never deleted.
    """
    name = rule_name(tag)
    description = "API Management to {0} (azure_apim.identity)".format(tag)

    def read() -> Optional[Dict[str, Any]]:
        nsg = service.get_nsg(nsg_id) or {"rules": []}
        ours = next((r for r in nsg["rules"] if r["name"].lower() == name.lower()), None)
        found = ours if owned_only else ours or next((r for r in nsg["rules"] if allows_outbound(r, tag, port)), None)
        return None if found is None else dict(found, allows=allows_outbound(found, tag, port))

    def write(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> None:
        prio = (current or {}).get("priority") or planned["priority"]
        service.put_rule(nsg_id, (current or {}).get("name") or name, rule_properties(tag, prio, port, description))

    def predict(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Dict[str, Any]:
        prio = (current or {}).get("priority") or planned["priority"]
        body = {"id": None, "name": (current or {}).get("name") or name}
        body.update(rule_to_dict({"properties": rule_properties(tag, prio, port, description)}))
        body.update(id=(current or {}).get("id"), name=(current or {}).get("name") or name, allows=True,
                    provisioning_state="Succeeded")  # the module returns once Azure has applied the rule
        return body

    return ResourceSpec(
        what="outbound rule to {0} in {1}".format(tag, nsg_id.rsplit("/", 1)[-1]), read=read,
        create=lambda wanted: write(None, wanted), update=lambda current, wanted, paths: write(current, wanted),
        delete=lambda current: service.delete_rule(current["id"]), predict=predict,
    )


def subnet_id_from_params(module: AzureApimModule) -> str:
    """The subnet the options name: ``subnet_id``, ``virtual_network`` + ``subnet``, or the service's subnet."""
    params = module.params
    if params.get("subnet_id"):
        return str(parse_resource_id(params["subnet_id"], SUBNET_TYPE))
    if params.get("service_name"):
        return apim_subnet_id(module, params["service_resource_group"], params["service_name"])
    return "/subscriptions/{0}/resourceGroups/{1}/providers/Microsoft.Network/virtualNetworks/{2}/subnets/{3}".format(
        module.subscription_id, params["resource_group"], params["virtual_network"], params["subnet"])
