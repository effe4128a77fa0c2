"""The ``chalk-client`` command (``main.main``), its answer table (``format``) and the demo."""
