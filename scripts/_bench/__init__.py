"""The modules of ``scripts/bench.py``, one concern each (that script's docstring maps them)."""
