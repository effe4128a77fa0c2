"""The API areas: each call's builder (arguments to request) and parser (answer to result), and the offline-query flows. Imports only chalk_client._core and the generated client."""
