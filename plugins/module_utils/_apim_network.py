# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Capability of apim_subnet_service_endpoint and apim_nsg_outbound_rules: the service's subnet and the specs of
one subnet's service endpoints and one NSG rule (see _state.ensure)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ._apim import ApimServices
from ._errors import AzureApimError
from ._ids import parse_resource_id
from ._network import (
    NSG_TYPE, SUBNET_TYPE, NetworkService, allows_outbound, endpoints_equal, endpoints_wanted, plan_rules,
    public_subnet, rule_name, rule_properties, rule_to_dict,
)
from ._retry import APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED
from ._state import ResourceSpec, ensure

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


def ensure_subnet_endpoint(module: AzureApimModule) -> Dict[str, Any]:
    """apim_subnet_service_endpoint: add or remove the endpoint, keeping everything else on the subnet."""
    params = module.params
    subnet_id = subnet_id_from_params(module)
    network = NetworkService(module)
    if network.get_subnet(subnet_id) is None:
        raise AzureApimError("Subnet {0} does not exist".format(subnet_id), status=404, code="SubnetNotFound",
                             hint="check the virtual network and subnet names; this module does not create subnets")
    present = params["state"] == "present"

    def desired(current: Dict[str, Any]) -> Dict[str, Any]:
        return {"service_endpoints": endpoints_wanted(current, params["service"], params["locations"], present)}

    outcome = ensure(subnet_endpoint_spec(network, subnet_id), "present", desired,
                     check_mode=module.check_mode, deadline=module.deadline)
    outcome.before, outcome.after = public_subnet(outcome.before), public_subnet(outcome.after)
    return outcome.result("subnet")


def nsg_id_from_params(module: AzureApimModule, network: NetworkService) -> str:
    """The NSG the options name (for a service: the one linked to its subnet)."""
    params = module.params
    if params["nsg_id"]:
        return str(parse_resource_id(params["nsg_id"], NSG_TYPE))
    if params["nsg_name"]:
        return "/subscriptions/{0}/resourceGroups/{1}/providers/{2}/{3}".format(
            module.subscription_id, params["resource_group"], NSG_TYPE, params["nsg_name"])
    subnet = network.get_subnet(apim_subnet_id(module, params["service_resource_group"], params["service_name"]))
    if not subnet or not subnet.get("network_security_group_id"):
        raise AzureApimError("The subnet of API Management service {0!r} has no network security group".format(
            params["service_name"]), code="NoNetworkSecurityGroup",
            hint="without an NSG outbound traffic is not filtered; nothing to do")
    return subnet["network_security_group_id"]


def ensure_outbound_rules(module: AzureApimModule) -> Dict[str, Any]:
    """apim_nsg_outbound_rules: one outbound rule per service tag; other rules are never touched."""
    params = module.params
    if params["priority"] is not None and not 100 <= params["priority"] <= 4096:
        raise AzureApimError("priority must be between 100 and 4096, not {0}".format(params["priority"]),
                             code="InvalidPriority")
    network = NetworkService(module)
    nsg_id = nsg_id_from_params(module, network)
    nsg = network.get_nsg(nsg_id)
    if nsg is None:
        raise AzureApimError("Network security group {0} does not exist".format(nsg_id), status=404,
                             code="NetworkSecurityGroupNotFound", hint="check the NSG name and resource group")
    absent = params["state"] == "absent"
    plan = plan_rules(nsg, params["service_tags"], params["port"], params["priority"]) if not absent else {}
    changed, before, after = False, [], []
    for tag in params["service_tags"]:
        spec = nsg_rule_spec(network, nsg_id, tag, params["port"], plan.get(tag, {}), owned_only=absent)
        outcome = ensure(spec, params["state"], {"allows": True}, check_mode=module.check_mode,
                         deadline=module.deadline)
        changed = changed or outcome.changed
        before.append(outcome.before)
        after.append(outcome.after)
    rules = [r for r in after if r]
    return {"changed": changed, "rules": rules, "nsg": {"id": nsg["id"], "name": nsg["name"]},
            "diff": {"before": {"rules": [r for r in before if r]}, "after": {"rules": rules}}}
