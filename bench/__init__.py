"""adasolve benchmarks against peers: ``python -m bench <family>`` (not part of pytest)."""
