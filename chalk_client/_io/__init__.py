"""The only I/O: the connection pools with their slots, the urllib3 and aiohttp transports, the token cache (threads and waits), result files, and fork handling. Imports only chalk_client._core."""
