"""Microsoft.KeyVault in the local Azure: vaults (``vaults.py``), their access policies (``access_policies.py``), and
management-plane secrets (``vault_secrets.py``).

What the real resource provider does and this model reproduces:

- ``PUT`` of a vault answers **200** with ``provisioningState: RegisteringDns`` and no LRO headers (the live recording
  of azure-mgmt-keyvault shows this); callers poll ``GET`` until ``Succeeded``. ``vaultUri`` is lower-case with a
  trailing ``/``. ``networkAcls`` are normalised: a bare IPv4 address gets ``/32``, subnet ids are lower-cased.
- ``PUT`` replaces the vault's properties, *including* ``accessPolicies`` (omitting them clears them: the classic
  template-redeploy pitfall). ``PATCH`` merges top-level properties.
- From api-version 2026-02-01 on, a vault *created* without ``enableRbacAuthorization`` uses Azure RBAC (the service
  changed its default); older api-versions default to access policies. Updates never flip the model implicitly.
- ``accessPolicies/{add|replace|remove}``: add merges permissions per object id, replace swaps the entry's permissions,
  remove takes the listed permissions away and drops the entry when nothing is left; at most 1024 policies.
- Two writes to one vault at the same moment: the second gets **409 ConflictError** (the vault is locked for a short
  wall-clock window while a write commits; a fault rule can force the same).
- ``vaults/secrets`` (management plane) returns ``contentType``, ``attributes``, ``secretUri`` and
  ``secretUriWithVersion`` but never the value. Each ``PUT`` with a value makes a new version.

Helpers for seeding (used by the admin interface): :func:`new_vault_body`, :func:`store_secret`.
"""

from __future__ import annotations

# Importing the modules registers their routes on ``bp``.
from emulator.keyvault.access_policies import apply_access_policy_change
from emulator.keyvault.vault_secrets import store_secret
from emulator.keyvault.vaults import (ACCESS_POLICY_TYPE, MAX_ACCESS_POLICIES, NAMESPACE, PERMISSIONS, SECRET_TYPE,
                                      VAULT_DNS_SUFFIX, VAULT_TYPE, bp, new_vault_body, normalise_network_acls,
                                      validate_access_policies, vault_id, vault_uri, vault_write)

__all__ = [
    "ACCESS_POLICY_TYPE", "MAX_ACCESS_POLICIES", "NAMESPACE", "PERMISSIONS", "SECRET_TYPE", "VAULT_DNS_SUFFIX",
    "VAULT_TYPE", "apply_access_policy_change", "bp", "new_vault_body", "normalise_network_acls", "store_secret",
    "validate_access_policies", "vault_id", "vault_uri", "vault_write",
]
