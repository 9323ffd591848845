# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""AzureApimModule: the composition wrapper every module of the collection uses."""
from __future__ import annotations

import importlib
import os
import traceback
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from ansible.module_utils.basic import AnsibleModule

from ._auth import AUTH_ARGUMENT_SPEC, AuthSettings, build_credential, resolve_settings
from ._credentials import FirstAvailable, RenewableCredential, make_authentication_policy
from ._arm import ArmRest
from ._errors import AzureApimError, translate
from ._items import ItemList  # the type run_items takes
from ._lro import polling_kwargs, status_lost, wait_poller
from ._plan import ASSUME_OPTION, merge_planned
from ._retry import (
    DEFAULT_KINDS, DEFAULT_RETRY_AFTER_CAP, Deadline, TransientKind, gave_up_at_deadline, make_retry_after_cap_policy,
    make_retry_policy, past_deadline,
    retry_transient,
)
from ._throttle import make_throttle_policy

COLLECTION_VERSION = "0.1.0"
USER_AGENT = "azure_apim.identity/" + COLLECTION_VERSION
DEFAULT_TIMEOUT = 600
# Without Retry-After an LRO is polled this often; ARM normally sends Retry-After and that wins.
DEFAULT_POLLING_INTERVAL = 5.0

# SDK clients by short name: (module, class). Imported only when a module asks for the client.
CLIENTS: Dict[str, tuple] = {
    "apim": ("azure.mgmt.apimanagement", "ApiManagementClient"),
    "keyvault": ("azure.mgmt.keyvault", "KeyVaultManagementClient"),
    "authorization": ("azure.mgmt.authorization", "AuthorizationManagementClient"),
    "msi": ("azure.mgmt.msi", "ManagedServiceIdentityClient"),
}


class AzureApimModule:
    """Owns the AnsibleModule, the shared connection options, the credential and the SDK clients.

    Nothing happens on the network, and nothing is resolved, until a client is first used.
    ``env`` and ``transport`` are seams for tests (defaults: os.environ and the requests transport).
    """

    def __init__(
        self,
        argument_spec: Mapping[str, Any],
        *,
        default_timeout: int = DEFAULT_TIMEOUT,
        retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP,
        polling_interval: float = DEFAULT_POLLING_INTERVAL,
        env: Optional[Mapping[str, str]] = None,
        transport: Any = None,
        **module_kwargs: Any,
    ) -> None:
        spec = dict(AUTH_ARGUMENT_SPEC)
        spec["timeout"] = {"type": "int", "default": default_timeout}
        spec["assume"] = dict(ASSUME_OPTION)  # check-mode plan across steps (see _plan.py)
        spec.update(argument_spec)
        module_kwargs.setdefault("supports_check_mode", True)
        self.module = AnsibleModule(argument_spec=spec, **module_kwargs)
        self.deadline = Deadline(self.module.params["timeout"] or None)
        self.retry_after_cap = retry_after_cap
        self.polling_interval = polling_interval
        self._env = env
        self._transport = transport
        self._auth: Optional[AuthSettings] = None
        self._credential: Any = None
        self._clients: Dict[str, Any] = {}
        self._item_params: Optional[Dict[str, Any]] = None
        # Per-run memo of reads that only serve lookups (e.g. the APIM service to resolve an identity): list items
        # of one task share them. Never used for the reads that decide or verify a change.
        self.memo: Dict[Any, Any] = {}

    # -- parameters and Ansible plumbing -------------------------------------------------------
    @property
    def params(self) -> Dict[str, Any]:
        """The module parameters (in a list run: the common ones merged with the current item's)."""
        return self.module.params if self._item_params is None else self._item_params

    @property
    def check_mode(self) -> bool:
        """True in check mode: no writes."""
        return self.module.check_mode

    @property
    def diff_mode(self) -> bool:
        """True when --diff was asked for."""
        return bool(getattr(self.module, "_diff", False))

    def warn(self, message: str) -> None:
        """Emit an Ansible warning."""
        self.module.warn(message)

    def debug(self, message: str) -> None:
        """Shown with ANSIBLE_DEBUG / -vvvv."""
        self.module.debug(message)

    # -- connection ----------------------------------------------------------------------------
    @property
    def auth(self) -> AuthSettings:
        """Resolved connection settings (lazy)."""
        if self._auth is None:
            self._auth = resolve_settings(self.params, os.environ if self._env is None else self._env)
            if self._auth.secret:
                # A secret from the environment or a profile is not a no_log parameter; tell Ansible to mask it too.
                self.module.no_log_values.add(self._auth.secret)
        return self._auth

    @property
    def subscription_id(self) -> str:
        """The subscription every call is made in."""
        return self.auth.subscription_id

    @property
    def credential(self) -> Any:
        """The azure-identity credential (lazy, one per run)."""
        if self._credential is None:
            self._credential = RenewableCredential(
                lambda: build_credential(self.auth, self.deadline, **self._transport_kwargs()), self.deadline)
        return self._credential

    def _transport_kwargs(self) -> Dict[str, Any]:
        kwargs: Dict[str, Any] = {}
        if self._transport is not None:
            kwargs["transport"] = self._transport
        if self.auth.ca_bundle:
            kwargs["connection_verify"] = self.auth.ca_bundle
        return kwargs

    def _client_kwargs(self) -> Dict[str, Any]:
        kwargs = self._transport_kwargs()
        kwargs.update(
            base_url=self.auth.resource_manager_url.rstrip("/"),
            credential_scopes=[self.auth.credential_scope],
            authentication_policy=make_authentication_policy(self.credential, self.auth.credential_scope),
            polling_interval=self.polling_interval,
            retry_policy=make_retry_policy(self.deadline, self.retry_after_cap),
            per_retry_policies=[make_retry_after_cap_policy(self.deadline, self.retry_after_cap),
                                make_throttle_policy(self.deadline)],
            user_agent=USER_AGENT,
        )
        return kwargs

    def client(self, name: str) -> Any:
        """SDK client ``apim`` | ``keyvault`` | ``authorization`` | ``msi``, created once per run."""
        if name not in self._clients:
            if name not in CLIENTS:
                raise AzureApimError("internal: unknown client {0!r}".format(name))
            module_name, class_name = CLIENTS[name]
            try:
                cls = getattr(importlib.import_module(module_name), class_name)
            except ImportError as err:
                raise AzureApimError(
                    "The Python package {0} is not installed where the module runs ({1})".format(
                        module_name.replace(".", "-"), err),
                    code="MissingDependency",
                    hint="install the collection's requirements.txt into the Python Ansible uses on the target",
                ) from err
            kwargs = self._client_kwargs()
            kwargs["policies"] = self._policies(kwargs, _sdk_moniker(module_name))
            self._clients[name] = cls(self.credential, self.subscription_id, **kwargs)
        return self._clients[name]

    @staticmethod
    def _policies(kwargs: Dict[str, Any], sdk_moniker: Optional[str] = None) -> List[Any]:
        """The pipeline every client uses, given explicitly so that the SDK's default one is not built.

        The default pipeline of the SDK clients includes azure-mgmt-core's ARMAutoResourceProviderRegistrationPolicy:
        on 409 MissingSubscriptionRegistration it POSTs ``/providers/<namespace>/register`` (a subscription-level
        write nobody asked for) and re-reads the provider every 10 s with no deadline, so a task could outlive its
        ``timeout``. Without it the 409 reaches the module, which names the registration command instead.
        ``per_retry_policies`` left in ``kwargs`` are inserted by azure-core right after the retry policy.
        """
        from azure.core.pipeline import policies
        from azure.mgmt.core.policies import ARMHttpLoggingPolicy

        return [
            policies.RequestIdPolicy(), policies.HeadersPolicy(),
            policies.UserAgentPolicy(user_agent=kwargs.get("user_agent"), sdk_moniker=sdk_moniker),
            policies.ProxyPolicy(), policies.ContentDecodePolicy(), policies.RedirectPolicy(),
            kwargs["retry_policy"], kwargs["authentication_policy"], policies.CustomHookPolicy(),
            policies.NetworkTraceLoggingPolicy(), policies.DistributedTracingPolicy(),
            policies.SensitiveHeaderCleanupPolicy(), ARMHttpLoggingPolicy(),
        ]

    def arm(self) -> Any:
        """Generic ARM REST client (see _arm.ArmRest) for providers without an SDK dependency."""
        if "arm" not in self._clients:
            from azure.mgmt.core import ARMPipelineClient
            from azure.mgmt.core.polling.arm_polling import ARMPolling

            kwargs = self._client_kwargs()
            pipeline_policies = self._policies(kwargs)
            for key in ("polling_interval", "user_agent", "credential_scopes", "retry_policy",
                        "authentication_policy"):
                kwargs.pop(key)
            client = ARMPipelineClient(base_url=kwargs.pop("base_url"), policies=pipeline_policies, **kwargs)
            self._clients["arm"] = ArmRest(client, lambda: ARMPolling(self.polling_interval))
        return self._clients["arm"]

    # -- calling Azure -------------------------------------------------------------------------
    def _secrets(self) -> list:
        return [self.params.get("secret"), self._auth.secret if self._auth else None]

    def call(self, fn: Callable[..., Any], *args: Any, what: str = "the request",
             retry: Sequence[TransientKind] = DEFAULT_KINDS, **kwargs: Any) -> Any:
        """Run an SDK call with the named transient retries inside the deadline; errors become AzureApimError."""
        try:
            return retry_transient(lambda: fn(*args, **kwargs), self.deadline, retry, what=what)
        except AzureApimError:
            raise
        except Exception as err:  # azure-core / azure-identity errors are translated, others re-raised
            if _is_azure_error(err):
                translated = translate(err, what, self._secrets())
                if self.deadline.expired() and gave_up_at_deadline(translated):
                    raise past_deadline(what, self.deadline, translated) from err
                raise translated from err
            raise

    def read(self, fn: Callable[..., Any], *args: Any, what: str = "the read", empty_ok: bool = False,
             **kwargs: Any) -> Any:
        """Like call(), but a 404 gives None (401/403/5xx still fail).

        Only a 404 means "absent": a 2xx answer without a body (or with one that is not JSON) is an error, never
        "absent", unless ``empty_ok`` (a DELETE answered 200/204 without a body).
        """
        try:
            found = self.call(fn, *args, what=what, **kwargs)
        except AzureApimError as err:
            if err.status == 404:
                return None
            if isinstance(err.__cause__, _decode_error()):
                raise empty_answer(what, "a body that is not JSON") from err
            raise
        if isinstance(getattr(fn, "__self__", None), ArmRest):
            return found  # ArmRest.get gives None for 404 only and raises on an empty answer itself
        if not empty_ok and (found is None or (isinstance(found, tuple) and found and found[0] is None)):
            raise empty_answer(what, "no body")
        return found

    def lro(self, begin_fn: Callable[..., Any], *args: Any, what: str = "the operation",
            retry: Sequence[TransientKind] = DEFAULT_KINDS, **kwargs: Any) -> Any:
        """Start an SDK ``begin_*`` operation and wait for it within the deadline (Retry-After driven polling)."""
        kwargs.update(polling_kwargs(self.polling_interval))
        poller = self.call(begin_fn, *args, what=what, retry=retry, **kwargs)
        try:
            return self.call(wait_poller, poller, self.deadline, what, what=what, retry=())
        except AzureApimError as err:
            if err.status == 404:
                raise status_lost(what, err) from err
            raise

    # -- running ---------------------------------------------------------------------------------
    def auth_info(self) -> Optional[Dict[str, Any]]:
        """Which credential was used (never a secret), for the result; None when Azure was not called."""
        if self._auth is None:
            return None
        info = self._auth.describe()
        used = getattr(self._credential, "current", self._credential)
        if isinstance(used, FirstAvailable) and used.used is not None:
            info["credential"] = type(used.used).__name__
        return info

    def exit_json(self, **result: Any) -> None:
        """Finish successfully; adds ``auth`` (credential type and source) to the result."""
        info = self.auth_info()
        if info is not None:
            result.setdefault("auth", info)
        self.module.exit_json(**result)

    def fail(self, err: AzureApimError) -> None:
        """Finish with the error's status, Azure code, request id and traceback."""
        result = err.to_result()
        info = self.auth_info()
        if info is not None:
            result["auth"] = info
        self.module.fail_json(exception=traceback.format_exc(), **result)

    def run(self, main_fn: Callable[["AzureApimModule"], Dict[str, Any]]) -> None:
        """Run ``main_fn(self)`` → result dict; the one domain exception (or an SDK error) becomes fail_json."""
        self._finish(lambda: main_fn(self))

    def _finish(self, produce: Callable[[], Dict[str, Any]],
                on_error: Optional[Callable[[AzureApimError], None]] = None) -> None:
        """exit_json with what ``produce`` returns, or fail_json: the domain exception as it is (``on_error`` may add
        to it first), an SDK error translated; programming errors are re-raised. Always closes the clients."""
        try:
            result = produce()
        except AzureApimError as err:
            if on_error is not None:
                on_error(err)
            self.fail(err)
        except Exception as err:  # SDK errors that escaped call(): translated; programming errors re-raised
            if not _is_azure_error(err):
                raise
            self.fail(translate(err, None, self._secrets()))
        else:
            self.exit_json(**result)
        finally:
            self._item_params = None
            self.close()

    def run_items(self, main_fn: Callable[["AzureApimModule"], Dict[str, Any]], items: "ItemList") -> None:
        """Like run(), but when the list option ``items.option`` is set, ``main_fn`` runs once per item.

        Every item is validated before the first call to Azure (``items.validate``); the items then run in order in
        this one process, sharing the credential, the clients and ``memo``. The first failing item ends the run: the
        error names the item and the result lists what the items before it did.
        """
        if self.module.params.get(items.option) is None:
            self.run(main_fn)
            return
        done: List[Dict[str, Any]] = []

        def with_done(err: AzureApimError) -> None:
            err.extra = dict(getattr(err, "extra", None) or {}, **{items.option: done})

        self._finish(lambda: self._run_items(main_fn, items, done), with_done)

    def _run_items(self, main_fn: Callable[["AzureApimModule"], Dict[str, Any]], items: "ItemList",
                   done: List[Dict[str, Any]]) -> Dict[str, Any]:
        merged = items.expand(self.module.params)
        for index, params in enumerate(merged):
            self._item_params = params
            items.labelled(index, merged, items.validate)
        diff: Dict[str, Dict[str, Any]] = {"before": {}, "after": {}}
        planned: Dict[str, List[Dict[str, str]]] = {}
        for index, params in enumerate(merged):
            self._item_params = params
            one = items.labelled(index, merged, lambda _params: main_fn(self))
            item_diff = one.pop("diff", None) or {}
            one.pop("auth", None)
            if one.get("changed") and item_diff:
                key = items.key(params)
                diff["before"][key] = item_diff.get("before")
                diff["after"][key] = item_diff.get("after")
            merge_planned(planned, one.pop("planned", None))
            done.append(one)
        self._item_params = None
        result = {"changed": any(one.get("changed") for one in done), items.option: done, "diff": diff}
        return dict(result, planned=planned) if planned else result

    def close(self) -> None:
        """Close clients and the credential (releases connection pools)."""
        for client in self._clients.values():
            getattr(client, "close", lambda: None)()
        if self._credential is not None:
            getattr(self._credential, "close", lambda: None)()


def empty_answer(what: str, kind: str) -> AzureApimError:
    """A read answered 2xx without a usable body: Azure said neither "here it is" nor "absent" (404)."""
    return AzureApimError(
        "{0}: Azure answered 200 with {1}; nothing was changed; re-run the task".format(
            what[:1].upper() + what[1:], kind),
        code="EmptyResponse",
        hint="a proxy or an Azure front end answered without the resource; re-run, and if it persists check the "
             "network path to Azure Resource Manager")


def _decode_error() -> Any:
    from azure.core.exceptions import DecodeError

    return DecodeError


def _sdk_moniker(module_name: str) -> Optional[str]:
    """``mgmt-apimanagement/5.0.0``: the SDK part of the User-Agent, as the SDK's own pipeline would send it."""
    try:
        version = importlib.import_module(module_name + "._version").VERSION
    except (ImportError, AttributeError):
        return None
    return "{0}/{1}".format(module_name.replace("azure.", "").replace(".", "-"), version)


def _is_azure_error(err: BaseException) -> bool:
    try:
        from azure.core.exceptions import AzureError
    except ImportError:  # azure-core missing: nothing to translate
        return False
    return isinstance(err, AzureError)
