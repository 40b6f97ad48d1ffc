"""The types of Paddock's stack settings: constraints as types, and their errors in words.

Pulumi hands a program every setting as text: numbers and booleans parse from it, lists, maps
and integer choices are JSON (``Json``). ``Rule`` and ``Between`` make a constraint's error say
the setting's rule (``must be ...``) instead of quoting a regular expression or listing one
error per member of a union.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    Json,
    StringConstraints,
)
from pydantic_core import core_schema

RULE = "setting_rule"
"""The error type of a ``Rule`` or ``Between`` violation."""


@dataclass(frozen=True)
class Rule:
    """``Annotated`` metadata: any error of the annotated type becomes ``text``."""

    text: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.custom_error_schema(
            handler(source), custom_error_type=RULE, custom_error_message=self.text
        )


@dataclass(frozen=True)
class Between:
    """``Annotated[int, Between(low, high)]``: an integer in ``low..high``, said so on error."""

    low: int
    high: int

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.custom_error_schema(
            core_schema.int_schema(ge=self.low, le=self.high),
            custom_error_type=RULE,
            custom_error_message=f"must be between {self.low} and {self.high}",
        )


class SettingsModel(BaseModel):
    """A group of settings: frozen, and a key it does not declare is an error."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        arbitrary_types_allowed=True,  # secrets are pulumi.Output values
        use_attribute_docstrings=True,
        regex_engine="python-re",  # lookaheads; the Rust engine has none
    )


def _choice(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Choice = BeforeValidator(_choice)
"""Choices are read case- and space-insensitively."""

Secret = pulumi.Output[str]
"""Read with ``get_secret``: an ``Output`` marked secret, never plain text."""

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}$"),
    Rule("must be lowercase letters, digits and '-' (a letter first, at most 31)"),
]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://"), Rule("must be an https URL")]
HttpUrl = Annotated[
    str, StringConstraints(pattern=r"^https?://[^/\s]+"), Rule("must be an http(s) URL")
]
ResourceId = Annotated[
    str,
    StringConstraints(pattern=r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/.+/.+$"),
    Rule("must be the id of one resource (/subscriptions/.../providers/<type>/<name>)"),
]
OneResourceId = Annotated[
    ResourceId, Rule("must be one resource id, not a subscription or resource group")
]

APP_INSIGHTS_ID = (
    r"^/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/"
    r"microsoft\.insights/components/([^/]+)$"
)
"""An existing Application Insights component (case-insensitive): resource group, name."""


def _insights_mode(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = value.strip()
    return value.lower() if value.lower() in ("create", "off") else value


AppInsights = Annotated[
    str,
    StringConstraints(pattern=rf"(?i)^create$|^off$|{APP_INSIGHTS_ID}"),
    BeforeValidator(_insights_mode),
    Rule(
        "must be create, off or the resource id of an Application Insights component "
        "(/subscriptions/.../providers/microsoft.insights/components/<name>)"
    ),
]

Reservation = Annotated[
    Json[Literal[-1] | Annotated[int, Between(1, 10000)]],
    Rule("must be -1 (unreserved) or 1..10000 (0 would disable the function)"),
]
"""Reserved concurrency of a Lambda function."""

# fmt: off
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
]
# fmt: on
"""The values CloudWatch Logs accepts for ``retention_in_days``."""

ExpirationDays = Annotated[int, Between(1, 3650)]

QueueName = Annotated[
    str,
    # An Azure queue name is 3-63 characters; "-poison" is appended for the poison queue.
    StringConstraints(pattern=r"^[a-z0-9](?:-?[a-z0-9])+$", min_length=3, max_length=56),
    Rule("must be 3-56 lowercase letters, digits and single inner '-' (a queue name)"),
]

IamAction = Annotated[
    str,
    StringConstraints(pattern=r"^[^*]*:[^*]*$"),
    Rule("must be one exact 'service:Action' (no wildcards)"),
]
NarrowArn = Annotated[
    str,
    # arn:partition:service:region:account:resource, with no '*' in the service or the account
    # and a resource that is more than wildcards and separators.
    StringConstraints(pattern=r"^arn:[^:]*:[^:*]*:[^:]*:[^:*]*:.*[^*/:].*$"),
    Rule("must be an ARN naming the service, account and resource (no bare '*')"),
]

EnvName = Annotated[
    str,
    StringConstraints(pattern=r"^(?!PADDOCK_|AzureWebJobs)"),
    Rule("is the program's own (PADDOCK_* and AzureWebJobs* may not be overridden)"),
]
"""A variable ``extraEnv`` may set."""
