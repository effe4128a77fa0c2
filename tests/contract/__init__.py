"""Contract tests: openapi/chalk.yaml is the contract between the SDK and ChalkServer (and Chalk)."""
