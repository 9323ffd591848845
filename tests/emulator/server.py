"""Serve the local Azure over HTTPS on loopback with a throw-away test CA (trustme) and werkzeug's threaded server."""

from __future__ import annotations

import logging
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any, Optional

import trustme
from werkzeug.serving import BaseWSGIServer, make_server

from emulator.app import create_app
from emulator.world import World


class EmulatorServer:
    """One running local Azure: `start()`, then `base_url` / `ca_bundle` / `info()`; `stop()` shuts it down."""

    def __init__(self, world: Optional[World] = None, host: str = "127.0.0.1", port: int = 0,
                 state_dir: Optional[str] = None) -> None:
        self.world = world or World()
        self.host = host
        self.port = port
        self._tmp: Optional[tempfile.TemporaryDirectory] = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="local-azure-")
            state_dir = self._tmp.name
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.app = create_app(self.world)
        self._server: Optional[BaseWSGIServer] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def base_url(self) -> str:
        """`https://127.0.0.1:<port>`: authority host, resource manager URL and credential-scope resource at once."""
        return f"https://{self.host}:{self.port}"

    @property
    def ca_bundle(self) -> str:
        """Path of the PEM file with the test CA that signed the server certificate."""
        return str(self.state_dir / "ca.pem")

    def _ssl_context(self) -> ssl.SSLContext:
        ca = trustme.CA(organization_name="Local Azure test CA")
        ca.cert_pem.write_to_path(self.ca_bundle)
        cert = ca.issue_cert(self.host, "localhost", "127.0.0.1")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        return ctx

    def start(self) -> "EmulatorServer":
        """Bind, then serve in a daemon thread."""
        if self._server is None:
            self.bind()
        assert self._server is not None
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-azure", daemon=True)
        self._thread.start()
        return self

    def bind(self) -> "EmulatorServer":
        """Bind the socket without serving yet (so the port is known before serving)."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(self.host, self.port, self.app, threaded=True, ssl_context=self._ssl_context())
        self._server.daemon_threads = True
        self.port = self._server.server_port
        self.world.base_url = self.base_url
        return self

    def stop(self) -> None:
        """Stop serving and release the port (and the temporary state dir if we made it)."""
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=10)
            self._server.server_close()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def info(self) -> dict[str, Any]:
        """What a client needs: base URL, CA bundle, tenant/subscription ids and the automation credentials."""
        auto = self.world.automation
        return {
            "base_url": self.base_url,
            "ca_bundle": self.ca_bundle,
            "tenant_id": self.world.tenant_id,
            "subscription_id": self.world.subscription_id,
            "second_subscription_id": self.world.second_subscription_id,
            "client_id": auto.get("client_id"),
            "client_secret": auto.get("client_secret"),
            "identity_endpoint": f"{self.base_url}/msi/token",
            "identity_header": auto.get("identity_header"),
        }

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
