"""Settings read from the environment: one place that names every ``PADDOCK_*`` variable.

The cloud handlers, the workers and the Pulumi program all agree on these names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, Field


class Settings(BaseModel):
    """Runtime configuration. Field docs name the environment variable."""

    cloud: str = "local"
    """PADDOCK_CLOUD: which worker this process is: ``aws``, ``azure`` or ``local``."""
    store: str = "memory"
    """PADDOCK_STORE: ``memory``, ``dynamodb`` or ``table``."""
    dynamodb_table: str = "paddock"
    """PADDOCK_DYNAMODB_TABLE: the single DynamoDB table."""
    payload_bucket: str | None = None
    """PADDOCK_PAYLOAD_BUCKET: S3 bucket for payloads over DynamoDB's item limit."""
    sqs_queue_url: str | None = None
    """PADDOCK_SQS_QUEUE_URL: the AWS work queue."""
    aws_endpoint_url: str | None = None
    """PADDOCK_AWS_ENDPOINT_URL: a moto server for local runs (never set in the cloud)."""
    table_name: str = "paddockruns"
    """PADDOCK_TABLE_NAME: the Azure Table / Cosmos DB for Table table."""
    table_endpoint: str | None = None
    """PADDOCK_TABLE_ENDPOINT: Table service URL, used with managed identity."""
    queue_endpoint: str | None = None
    """PADDOCK_QUEUE_ENDPOINT: Queue service URL, used with managed identity."""
    blob_endpoint: str | None = None
    """PADDOCK_BLOB_ENDPOINT: Blob service URL for large payloads."""
    azure_connection_string: str | None = None
    """PADDOCK_AZURE_CONNECTION_STRING: local emulator only (Azurite); never in the cloud."""
    queue_name: str = "paddock-work"
    """PADDOCK_QUEUE_NAME: the Azure Storage work queue."""
    blob_container: str = "paddock-payloads"
    """PADDOCK_BLOB_CONTAINER: blob container for large payloads."""
    auth_issuer: str | None = None
    """PADDOCK_AUTH_ISSUER: the OIDC issuer whose bearer tokens the API accepts."""
    auth_jwks_url: str | None = None
    """PADDOCK_AUTH_JWKS_URL: where the issuer's signing keys are published."""
    auth_audience: str | None = None
    """PADDOCK_AUTH_AUDIENCE: the audience the API's bearer tokens must carry."""
    local_mode: bool = False
    """PADDOCK_LOCAL_MODE: enables the dev sign-in; refused in the cloud."""
    local_base_url_ports: str | None = None
    """PADDOCK_LOCAL_BASE_URL_PORTS: loopback ports (comma-separated) a scenario run's
    ``base_urls`` may name in local mode, besides those of the scenario's own services."""
    llm: str = "rules"
    """PADDOCK_LLM: ``rules``, ``openai`` or ``azure-openai``."""
    signing_key_path: str | None = None
    """PADDOCK_SIGNING_KEY_PATH: PEM private key for capability tokens (generated if unset)."""
    trace_file: str | None = None
    """PADDOCK_TRACE_FILE: JSON-lines span file; PADDOCK_OTLP_ENDPOINT for OTLP."""
    otlp_endpoint: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for name, field in cls.model_fields.items():
            if name == "extra":
                continue
            raw = env.get("PADDOCK_" + name.upper())
            if raw is None:
                continue
            if field.annotation in (bool, "bool"):
                values[name] = raw.strip().lower() in ("1", "true", "yes", "on")
            else:
                values[name] = raw
        return cls.model_validate(values)
