"""The ``chalk-client`` command (``main.main``), its answer table (``format``) and the demo.

``main`` runs the ``parser``'s commands (``commands``, ``commands_offline``, ``commands_server``)
and reports their failures through ``errors``.
"""
