"""Package data: the OpenAPI specs of the shipment-delay scenario services."""
