"""The local Azure: an ARM + Entra ID emulator served over TLS, used by tests, the demo and the benchmarks.

Start it with `python -m emulator serve`, or from Python with `emulator.server.EmulatorServer`.
"""
