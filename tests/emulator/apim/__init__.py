"""Microsoft.ApiManagement in the local Azure: services, identities, hostnames, named values, loggers, policies, APIs,
certificates and backends, one module per entity family (see the file map in ``tests/emulator/README.md``).

Shapes follow the 2024-05-01 spec examples and the live azure-cli recordings (api-version 2021-08-01) under
``../shared/reference/arm-examples``; where they disagree the recording (real traffic) wins:

- service ``PUT`` (create) → **201** with the body (``provisioningState: Created``, ``targetProvisioningState:
  Activating``), a quoted ``ETag`` header and ``Location: …/service/{name}/operationresults/{id}``; from api-version
  2022-08-01 on also ``Azure-AsyncOperation`` (the same URL plus ``&asyncResponse``, as in the spec examples). The
  Location URL answers 202 while running and then 200 with the resource; the async URL answers a status body.
  ``PATCH`` → 202 without a body; ``DELETE`` → 202 with the body (``targetProvisioningState: Deleting``).
- Writes to a service that is still transitioning (Created/Activating/Updating/Deleting) get **409**.
- Real responses carry explicit ``null`` fields (``zones``, ``certificates``, ``identity`` when there is none, …).
- named value ``PUT``/``PATCH`` → ``location: …/namedValues/{id}?…&asyncId=…&asyncCode=201`` (200 for updates); that
  URL answers 202 while running, then the asyncCode with the entity. With api-version 2021-08-01 (the recording) a
  PUT answers **202 with an empty body**; with 2024-05-01 it answers 201/200 with the entity in provisioningState
  InProgress, as the spec examples show (azure-mgmt-apimanagement 5.x rejects a 202 there). ``PATCH`` is 202.
  Secret values never appear on GET or list (``listValue`` returns them).
- loggers answer synchronously; their credentials come back masked as ``{{Logger-Credentials-<id>}}``.
- policies are stored as sent and returned normalised (2-space indentation, ``\\r\\n`` line ends, ``>`` escaped in
  text) unless ``?format=rawxml`` asks for the raw text.
- certificates answer synchronously (ApiManagementCreateCertificateWithKeyVault: 201/200 with subject, thumbprint,
  expiry and ``keyVault.lastStatus``); APIM fetches a Key Vault secret during the PUT and a failed fetch is a 400
  with nothing stored. ``refreshSecret`` (ApiManagementRefreshCertificate) fetches again and answers 200.
- backends are stored as sent (only ``credentials.certificateIds`` matters here: which certificates they use).

Key Vault references (hostname certificates, named values, certificates) are read through :mod:`emulator.resolve`.
Entities inside a service share one GET/list/PUT/DELETE handler (:mod:`emulator.apim.children`).
"""

from __future__ import annotations

# Importing a family's module registers its routes on ``bp``.
from emulator.apim import apis, backends, certificates, loggers, named_values, policies, service_routes  # noqa: F401
from emulator.apim.base import (API_TYPE, ASYNC_HEADER_FROM, LOGGER_TYPE, NAMESPACE, NV_TYPE, OPERATION_TYPE,
                                SERVICE_TYPE, api_version, bp, display_location, new_etag, retry_after, service_id)
from emulator.apim.backends import BACKEND_TYPE
from emulator.apim.certificates import CERT_TYPE
from emulator.apim.hostnames import build_hostnames, builtin_hostname
from emulator.apim.identity import build_identity, identities_in_use
from emulator.apim.policies import normalise_policy
from emulator.apim.seed import seed_service
from emulator.apim.service import apply_update, new_service_body

__all__ = [
    "API_TYPE", "ASYNC_HEADER_FROM", "BACKEND_TYPE", "CERT_TYPE", "LOGGER_TYPE", "NAMESPACE", "NV_TYPE",
    "OPERATION_TYPE", "SERVICE_TYPE", "api_version", "apply_update", "bp", "build_hostnames", "build_identity",
    "builtin_hostname", "display_location", "identities_in_use", "new_etag", "new_service_body", "normalise_policy",
    "retry_after", "seed_service", "service_id"
]
