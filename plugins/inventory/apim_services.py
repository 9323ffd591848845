# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: apim_services
short_description: API Management services of one or more subscriptions as an inventory
version_added: 0.1.0
description:
  - Lists the API Management services of the given subscriptions through Azure Resource Manager and adds one host
    per service, named after the service (service names are global DNS names, so they are unique).
  - Reads one list per subscription (Azure pages long lists; every page is followed) and no service one by one, so
    a fleet of hundreds of services costs a handful of requests.
  - Hosts get C(ansible_connection=local) by default, so the collection's modules run on the controller or the AWX
    execution node, and hostvars describing the service (see O(hostvar_prefix)).
  - Signs in like the collection's modules, with the same options and the same environment variables
    (the ones an AWX Azure credential injects). Unset options fall back to those variables.
  - The inventory source file name must end in C(apim_services.yml) or C(apim_services.yaml).
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - azure_apim.identity.azure
options:
  plugin:
    description: Marks the file as a source for this plugin.
    type: str
    required: true
    choices: [azure_apim.identity.apim_services]
  subscriptions:
    description:
      - Subscription IDs to list services in.
      - Defaults to the one subscription of the connection (O(subscription_id), E(AZURE_SUBSCRIPTION_ID) or the
        credentials profile).
    type: list
    elements: str
  resource_groups:
    description:
      - Keep only services in these resource groups (names compared case-insensitively, as Azure does).
      - The filter is applied to the subscription's list; it costs no extra request.
    type: list
    elements: str
  tags:
    description:
      - Keep only services carrying every one of these tags.
      - A tag given with an empty value matches any value; otherwise the value must be equal.
    type: dict
  hostvar_prefix:
    description: Prefix of the hostvars describing the service (C(apim_id), C(apim_resource_group), ...).
    type: str
    default: apim_
  connection:
    description:
      - Value of C(ansible_connection) for every host. The default V(local) runs the collection's modules where
        Ansible runs, which is what Azure API modules need.
      - With V(local), C(ansible_python_interpreter) is set to C({{ ansible_playbook_python }}) too, the Python
        that holds the collection's requirements. An empty string sets neither.
    type: str
    default: local
  timeout:
    description: Seconds the listing may take in total, retries included.
    type: int
    default: 300
notes:
  - "Hostvars (with the default prefix): C(apim_id), C(apim_name), C(apim_subscription_id), C(apim_resource_group),
    C(apim_location), C(apim_sku) (C(name), C(capacity)), C(apim_tags), C(apim_provisioning_state),
    C(apim_gateway_url), C(apim_identity) (C(type), C(principal_id), C(tenant_id), C(user_assigned): list of C(id),
    C(name), C(client_id), C(principal_id)) and C(apim_hostnames) (C(type), C(host_name), C(certificate_source),
    C(key_vault_id), C(identity_client_id), C(certificate_expiry))."
  - Playbooks pass C(subscription_id={{ apim_subscription_id }}), C(resource_group={{ apim_resource_group }}) and
    C(service_name={{ apim_name }}) to the modules, so one play serves services of several subscriptions.
  - Cache the inventory with O(cache=true) and any Ansible cache plugin (for example C(ansible.builtin.jsonfile));
    AWX refreshes inventory sources on its own schedule.
"""

EXAMPLES = r"""
# fleet.apim_services.yml: every service of two subscriptions, grouped by region, tier and an owner tag
plugin: azure_apim.identity.apim_services
subscriptions:
  - 00000000-0000-0000-0000-000000000001
  - 00000000-0000-0000-0000-000000000002
keyed_groups:
  - key: apim_location
    prefix: region
  - key: apim_sku.name
    prefix: sku
  - key: apim_tags.owner | default('none')
    prefix: owner
groups:
  without_identity: apim_identity.type == 'None'
compose:
  system_principal_id: apim_identity.principal_id

# prod.apim_services.yml: production services of the AWX credential's subscription, cached for an hour
plugin: azure_apim.identity.apim_services
tags:
  env: prod
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /tmp/apim_inventory_cache
cache_timeout: 3600
"""

from typing import Any, Dict, List, Mapping, Optional

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 templates every inventory string
    def trust_as_template(value: str) -> str:
        """Older ansible-core: plain strings are templates already."""
        return value

from ansible_collections.azure_apim.identity.plugins.module_utils._apim import ApimServices
from ansible_collections.azure_apim.identity.plugins.module_utils._auth import AUTH_ARGUMENT_SPEC
from ansible_collections.azure_apim.identity.plugins.module_utils._controller import ControllerConnection
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError

FILE_SUFFIXES = ("apim_services.yml", "apim_services.yaml")


def identity_summary(identity: Mapping[str, Any]) -> Dict[str, Any]:
    """The service's identity as hostvars: type, system principal, user-assigned ones as a list."""
    users = []
    for resource_id, value in sorted((identity.get("user_assigned_identities") or {}).items()):
        users.append({"id": resource_id, "name": resource_id.rstrip("/").rsplit("/", 1)[-1],
                      "client_id": value.get("client_id"), "principal_id": value.get("principal_id")})
    return {"type": identity.get("type") or "None", "principal_id": identity.get("principal_id"),
            "tenant_id": identity.get("tenant_id"), "user_assigned": users}


def hostname_summary(hostname: Mapping[str, Any]) -> Dict[str, Any]:
    """One hostname configuration, without anything secret (the list never carries certificates' content)."""
    certificate = hostname.get("certificate") or {}
    return {"type": hostname.get("type"), "host_name": hostname.get("host_name"),
            "certificate_source": hostname.get("certificate_source"), "key_vault_id": hostname.get("key_vault_id"),
            "identity_client_id": hostname.get("identity_client_id"), "certificate_expiry": certificate.get("expiry")}


def service_hostvars(service: Mapping[str, Any], subscription_id: str) -> Dict[str, Any]:
    """Hostvars (unprefixed) of one service as the list returned it."""
    return {
        "id": service["id"], "name": service["name"], "subscription_id": subscription_id,
        "resource_group": service["resource_group"], "location": service["location"], "sku": service["sku"],
        "tags": service["tags"], "provisioning_state": service["provisioning_state"],
        "gateway_url": service["gateway_url"], "identity": identity_summary(service["identity"]),
        "hostnames": [hostname_summary(h) for h in service["hostname_configurations"]],
    }


def wanted(service: Mapping[str, Any], resource_groups: Optional[List[str]], tags: Optional[Mapping[str, Any]]) -> bool:
    """True when the service passes the resource group and tag filters."""
    if resource_groups and (service.get("resource_group") or "").lower() not in {g.lower() for g in resource_groups}:
        return False
    have = service.get("tags") or {}
    for key, value in (tags or {}).items():
        if key not in have or (value not in (None, "") and str(have[key]) != str(value)):
            return False
    return True


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """API Management services as hosts."""

    NAME = "azure_apim.identity.apim_services"

    def verify_file(self, path: str) -> bool:
        """Only files named *apim_services.yml / .yaml."""
        return super().verify_file(path) and path.endswith(FILE_SUFFIXES)

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        hosts = None
        if use_cache:
            try:
                hosts = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if hosts is None:
            hosts = self._fetch()
        if update_cache:
            self._cache[cache_key] = hosts
        self._populate(hosts)

    # -- reading Azure ----------------------------------------------------------------------------------------
    def _connection_params(self) -> Dict[str, Any]:
        return {key: self.get_option(key) for key in AUTH_ARGUMENT_SPEC}

    def _fetch(self) -> List[Dict[str, Any]]:
        """Hostvars of every wanted service, subscription by subscription (one paged list each)."""
        params = self._connection_params()
        first = ControllerConnection(params, timeout=self.get_option("timeout"))
        try:
            subscriptions = self.get_option("subscriptions") or [first.subscription_id]
            hosts: List[Dict[str, Any]] = []
            for subscription_id in subscriptions:
                connection = ControllerConnection(dict(params, subscription_id=subscription_id),
                                                  timeout=self.get_option("timeout"), credential=first.credential)
                hosts.extend(self._list(connection, subscription_id))
            return hosts
        except AzureApimError as err:
            raise AnsibleParserError("azure_apim.identity.apim_services: {0}".format(err.full_message())) from None
        finally:
            first.close()

    def _list(self, connection: ControllerConnection, subscription_id: str) -> List[Dict[str, Any]]:
        try:
            services = ApimServices(connection).list_subscription()
        finally:
            connection._credential = None  # shared with the first connection, which closes it
            connection.close()
        groups, tags = self.get_option("resource_groups"), self.get_option("tags")
        return [service_hostvars(s, subscription_id) for s in services if wanted(s, groups, tags)]

    # -- building the inventory -------------------------------------------------------------------------------
    def _populate(self, hosts: List[Dict[str, Any]]) -> None:
        prefix, strict = self.get_option("hostvar_prefix"), self.get_option("strict")
        for facts in hosts:
            host = self.inventory.add_host(facts["name"])
            variables = {prefix + key: value for key, value in facts.items()}
            variables.update(self._connection_vars())
            for key, value in variables.items():
                self.inventory.set_variable(host, key, value)
            self._set_composite_vars(self.get_option("compose"), variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)

    def _connection_vars(self) -> Dict[str, str]:
        connection = self.get_option("connection")
        if not connection:
            return {}
        found = {"ansible_connection": connection}
        if connection == "local":
            # Values read from Azure are data, never templates; this one is ours and must be rendered.
            found["ansible_python_interpreter"] = trust_as_template("{{ ansible_playbook_python }}")
        return found
