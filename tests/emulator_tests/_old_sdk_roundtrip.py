"""Round trips with whatever SDK versions the running interpreter has (run by test_sdk_smoke with the oldest
supported pins: azure-identity 1.19.0, azure-core 1.31.0, azure-mgmt-apimanagement 4.0.1, -keyvault 10.3.1,
-authorization 4.0.0, -msi 7.0.0). Reads the connection JSON from argv[1]; prints one JSON object of findings."""

import json
import sys
import uuid

from azure.identity import ClientSecretCredential
from azure.mgmt.apimanagement import ApiManagementClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient


def main() -> None:
    info = json.loads(sys.argv[1])
    base, ca = info["base_url"], info["ca_bundle"]
    cred = ClientSecretCredential(info["tenant_id"], info["client_id"], info["client_secret"], authority=base,
                                  disable_instance_discovery=True, connection_verify=ca)
    kwargs = {"base_url": base, "credential_scopes": [f"{base}/.default"], "connection_verify": ca}
    sub = info["subscription_id"]
    out = {}
    apim = ApiManagementClient(cred, sub, **kwargs)
    out["apim_state"] = apim.api_management_service.get("rg-apim-demo", "apim-contoso-demo").provisioning_state
    kv = KeyVaultManagementClient(cred, sub, **kwargs)
    out["vault_uri"] = kv.vaults.get("rg-apim-demo", "kv-contoso-demo").properties.vault_uri
    out["secret_content_type"] = kv.secrets.get("rg-apim-demo", "kv-contoso-demo", "api-contoso-com").properties.content_type
    msi = ManagedServiceIdentityClient(cred, sub, **kwargs)
    identity = msi.user_assigned_identities.create_or_update("rg-apim-demo", "id-old-sdk", {"location": "westeurope"})
    out["identity_principal"] = identity.principal_id
    authz = AuthorizationManagementClient(cred, sub, **kwargs)
    scope = f"/subscriptions/{sub}/resourceGroups/rg-apim-demo/providers/Microsoft.KeyVault/vaults/kv-contoso-rbac"
    role = next(iter(authz.role_definitions.list(scope, filter="roleName eq 'Key Vault Secrets User'")))
    created = authz.role_assignments.create(scope, str(uuid.uuid4()), {
        "role_definition_id": role.id, "principal_id": identity.principal_id, "principal_type": "ServicePrincipal"})
    out["assignment_scope"] = created.scope
    print(json.dumps(out))


if __name__ == "__main__":
    main()
