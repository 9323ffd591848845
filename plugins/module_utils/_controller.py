# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""The modules' Azure connection (credential, SDK clients, retries, deadline, error translation) for plugins that
run on the controller, where there is no AnsibleModule: the inventory plugin signs in and reads exactly as a module
would, with the same options and the same AWX environment variables."""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Set

from ._module import DEFAULT_POLLING_INTERVAL, DEFAULT_TIMEOUT, AzureApimModule
from ._retry import DEFAULT_RETRY_AFTER_CAP, Deadline


class _Parameters:
    """What AzureApimModule asks of its AnsibleModule, for read-only controller use."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)
        self.check_mode = True  # a controller plugin never writes
        self._diff = False
        self.no_log_values: Set[str] = set()

    def warn(self, message: str) -> None:
        """Plugins report through their own display; nothing to do here."""

    def debug(self, message: str) -> None:
        """As warn()."""


class ControllerConnection(AzureApimModule):
    """AzureApimModule without an AnsibleModule: ``params`` holds the connection options (auth_source,
    subscription_id, client_id, secret, tenant, ...); unset ones fall back to the environment as in modules."""

    def __init__(self, params: Mapping[str, Any], *, timeout: Optional[int] = DEFAULT_TIMEOUT,
                 env: Optional[Mapping[str, str]] = None, transport: Any = None, credential: Any = None) -> None:
        # AzureApimModule.__init__ builds an AnsibleModule from sys.argv; the attributes it sets are set here.
        self.module = _Parameters(params)
        self.deadline = Deadline(timeout or None)
        self.retry_after_cap = DEFAULT_RETRY_AFTER_CAP
        self.polling_interval = DEFAULT_POLLING_INTERVAL
        self._env = env
        self._transport = transport
        self._auth = None
        self._credential = credential
        self._clients: Dict[str, Any] = {}
        self._item_params = None
        self.memo: Dict[Any, Any] = {}

    @property
    def secrets(self) -> Set[str]:
        """Values that must never appear in what the plugin prints (the secret, wherever it came from)."""
        found = {self.params.get("secret"), self._auth.secret if self._auth else None}
        return {s for s in found if s}
