"""Package data: the OpenAPI specs of the supply-chain scenario services."""
