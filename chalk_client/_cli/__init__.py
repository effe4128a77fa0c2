"""The ``chalk-client`` command (``main.main``), its answer table (``format``) and the demo.

``main`` runs the ``parser``'s commands (``commands``; ``commands_bulk`` for query --input-file;
``commands_writes`` for upload --input-file and delete; ``commands_offline``; ``commands_server``)
and reports their failures through ``errors``. ``tables`` reads input files (.csv, .parquet, .json)
and writes result files; ``connection`` resolves the connection options.
"""
