"""What a configuration cannot run without: the variables its choices make necessary.

Each field of the settings has a default, so a process always starts; but some choices only
work with values that have no sensible default — the DynamoDB store in the cloud needs the
stack's queue, ``azure-openai`` needs a deployment. :func:`required_variables` lists them for a
given ``Settings`` so a deployment (``infra/``, ``tests/infra/test_settings_contract.py``) can be
checked against what the runtime will ask for, before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings


@dataclass(frozen=True)
class Requirement:
    """One variable (or one of several alternatives) a configuration needs."""

    variables: tuple[str, ...]
    """Any one of these satisfies it."""
    why: str

    def met(self, names: set[str] | frozenset[str]) -> bool:
        """Whether ``names`` (the variables a deployment sets) satisfies this."""
        return any(v in names for v in self.variables)


def required_variables(settings: Settings, *, plans: bool = True) -> list[Requirement]:
    """The variables ``settings``' choices require. ``plans``: the process runs the planner
    (a worker; an HTTP front end that only enqueues does not)."""
    found: list[Requirement] = []
    if settings.cloud != "local":
        found.append(Requirement(("PADDOCK_STORE",), "a cloud process keeps runs in a store"))
        found.append(Requirement(("PADDOCK_AUTH_ISSUER",), "the API trusts one token issuer"))
        found.append(Requirement(("PADDOCK_AUTH_AUDIENCE",), "the API's tokens name it"))
    found += _storage(settings)
    if plans:
        found += _model(settings)
    return found


def _storage(settings: Settings) -> list[Requirement]:
    store = settings.storage.store
    if store == "dynamodb":
        return [
            Requirement(("PADDOCK_DYNAMODB_TABLE",), "the stack's DynamoDB table"),
            Requirement(("PADDOCK_SQS_QUEUE_URL",), "the AWS work queue"),
            Requirement(("PADDOCK_PAYLOAD_BUCKET",), "payloads over DynamoDB's item limit"),
        ]
    if store == "table":
        return [
            Requirement(("PADDOCK_TABLE_NAME",), "the stack's table"),
            Requirement(
                ("PADDOCK_TABLE_ENDPOINT", "PADDOCK_AZURE_CONNECTION_STRING"), "the Table service"
            ),
            Requirement(
                ("PADDOCK_QUEUE_ENDPOINT", "PADDOCK_AZURE_CONNECTION_STRING"), "the Azure queue"
            ),
            Requirement(("PADDOCK_QUEUE_NAME",), "the queue the Functions trigger binds"),
        ]
    return []


def _model(settings: Settings) -> list[Requirement]:
    llm = settings.model.llm
    if llm == "openai":
        return [
            Requirement(("OPENAI_API_KEY",), "the key of the OpenAI-compatible API"),
            Requirement(("OPENAI_MODEL",), "the configured model (the default is only a default)"),
        ]
    if llm == "azure-openai":
        return [
            Requirement(("AZURE_OPENAI_ENDPOINT",), "the Azure OpenAI resource"),
            Requirement(("AZURE_OPENAI_DEPLOYMENT",), "the deployment to call"),
        ]
    if llm == "anthropic":
        return [
            Requirement(("ANTHROPIC_API_KEY",), "the key of the Anthropic API"),
            Requirement(("ANTHROPIC_MODEL",), "the configured model"),
        ]
    if llm == "bedrock":
        return [Requirement(("BEDROCK_MODEL_ID",), "the model or inference profile to call")]
    return []
