"""Command line: `python -m emulator serve [--port N] [--world FILE] [--state-file FILE] [--time-scale X]`.

Prints one JSON line with base_url, ca_bundle, tenant/subscription ids and the automation credentials, then serves
until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Optional, Sequence

from emulator.server import EmulatorServer
from emulator.world import World


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="The local Azure (ARM + Entra ID).")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve over HTTPS until interrupted")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--world", help="world YAML/JSON file to seed")
    serve.add_argument("--state-file", help="also write the startup JSON line to this file")
    serve.add_argument("--state-dir", help="directory for the CA bundle (default: a temporary one)")
    serve.add_argument("--time-scale", type=float, help="1.0 = real time; 0.01 = 100x faster")
    env = sub.add_parser("env", help="print `export` lines for a running instance (AWX's Azure names + endpoints)")
    env.add_argument("state_file", help="the file `serve --state-file` wrote")
    return parser


def print_env(state_file: str) -> int:
    """Print the environment an AWX Azure credential sets, plus the local endpoints and CA, as shell exports."""
    import shlex

    from emulator.client import LocalAzure

    info = json.loads(Path(state_file).read_text(encoding="utf-8"))
    for name, value in LocalAzure.from_info(info).env().items():
        print("export {0}={1}".format(name, shlex.quote(str(value))))
    return 0


def serve(args: argparse.Namespace) -> int:
    """Run the server until a signal arrives."""
    server = EmulatorServer(World(), host=args.host, port=args.port, state_dir=args.state_dir).bind()
    if args.time_scale is not None:
        server.world.set_config({"time_scale": args.time_scale})
    if args.world:
        from emulator.admin import read_world_file

        server.world.load(read_world_file(args.world))
    server.start()
    # The pid lets a script that started the server in the background stop it (docs/try-it.md).
    line = json.dumps(dict(server.info(), pid=os.getpid()))
    if args.state_file:
        Path(args.state_file).write_text(line + "\n", encoding="utf-8")
    print(line, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()
    if args.state_file:
        Path(args.state_file).unlink(missing_ok=True)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "env":
        return print_env(args.state_file)
    return 2


if __name__ == "__main__":
    sys.exit(main())
