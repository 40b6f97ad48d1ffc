"""Amazon Bedrock for the AWS worker's planner (``paddock:llm bedrock``): its settings and a
least-privilege policy that lets the worker role invoke the configured model only.

The Converse API needs ``bedrock:InvokeModel`` (there is no separate Converse action), on the
model the request names. A foundation model id (``anthropic.claude-...-v1:0``) is one ARN in
the stack's region. A cross-region inference profile id (``us.anthropic.claude-...``) needs the
profile's ARN in this account *and* the foundation model's ARN in every region the profile
routes to: list them in ``paddock:bedrockModelRegions``. ``paddock:bedrockModelArns`` replaces
the derivation with exact ARNs (application inference profiles, provisioned throughput,
imported models). Never a wildcard.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import pulumi
import pulumi_aws as aws
from pydantic import Field, Json, StringConstraints

from paddock_infra import policies
from paddock_infra._setting_types import NarrowArn, Rule, SettingsModel

if TYPE_CHECKING:  # federation imports the configuration, which imports this module
    from paddock_infra.federation import AwsNames

__all__ = ["BedrockConfig", "bedrock_env", "bedrock_policy", "model_arns", "worker_bedrock"]

_PROFILE = re.compile(r"^(?:us|eu|apac|au|ca|jp|us-gov|global)\.(.+)$")

Region = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(?:-[a-z]+)+-\d$"),
    Rule("must be an AWS region such as us-east-1"),
]
ModelId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$", max_length=2048),
    Rule("must be a Bedrock model id, inference profile id or ARN (no wildcards)"),
]


class BedrockConfig(SettingsModel):
    """The ``bedrock*`` keys: the model the AWS worker plans with and who may call it."""

    model_id: ModelId | None = Field(None, alias="bedrockModelId")
    """``BEDROCK_MODEL_ID``: a model id, inference profile id or ARN (required for
    ``llm: bedrock``)."""
    model_regions: Json[tuple[Region, ...]] = Field((), alias="bedrockModelRegions")
    """The regions a cross-region inference profile routes to (required for a profile id)."""
    model_arns: Json[tuple[NarrowArn, ...]] = Field((), alias="bedrockModelArns")
    """Exact ARNs the worker may invoke, instead of the ones derived from the model id."""

    def problem(self, provider: str) -> str | None:
        """Why this cannot work for planner ``provider``; ``None`` when it can."""
        if provider != "bedrock":
            return None
        if self.model_id is None:
            return "paddock:llm bedrock needs paddock:bedrockModelId (a model or inference profile)"
        if self.model_arns:
            return None
        if self.model_id.startswith("arn:"):
            return (
                "paddock:bedrockModelId is an ARN: list what it may invoke in "
                "paddock:bedrockModelArns"
            )
        if _PROFILE.match(self.model_id) and not self.model_regions:
            return (
                f"paddock:bedrockModelId {self.model_id!r} is a cross-region inference profile: "
                "list its regions in paddock:bedrockModelRegions"
            )
        return None


def model_arns(cfg: BedrockConfig, *, partition: str, region: str, account_id: str) -> list[str]:
    """The ARNs ``bedrock:InvokeModel`` is allowed on (see the module's docstring)."""
    if cfg.model_arns:
        return list(cfg.model_arns)
    model = cfg.model_id or ""
    profile = _PROFILE.match(model)
    if profile is None:
        return [f"arn:{partition}:bedrock:{region}::foundation-model/{model}"]
    return [
        f"arn:{partition}:bedrock:{region}:{account_id}:inference-profile/{model}",
        *(
            f"arn:{partition}:bedrock:{r}::foundation-model/{profile.group(1)}"
            for r in cfg.model_regions
        ),
    ]


def bedrock_policy(arns: Sequence[str]) -> policies.Document:
    """Invoke (Converse) exactly these models; nothing else of Bedrock."""
    return policies.document(
        [policies.allow("InvokeConfiguredModel", ["bedrock:InvokeModel"], arns)]
    )


def bedrock_env(cfg: BedrockConfig, provider: str) -> dict[str, str]:
    """The worker's Bedrock variables (the Lambda runtime sets ``AWS_REGION`` itself)."""
    if provider != "bedrock" or cfg.model_id is None:
        return {}
    return {"BEDROCK_MODEL_ID": cfg.model_id}


def worker_bedrock(
    cfg: BedrockConfig, provider: str, names: AwsNames, worker_role: aws.iam.Role
) -> aws.iam.RolePolicy | None:
    """The worker role's Bedrock policy, when the planner is ``bedrock``."""
    if provider != "bedrock":
        return None
    policy = pulumi.Output.all(names.partition, names.account_id).apply(
        lambda a: json.dumps(
            bedrock_policy(model_arns(cfg, partition=a[0], region=names.region, account_id=a[1]))
        )
    )
    return aws.iam.RolePolicy(
        f"{names.base}-worker-bedrock",
        role=worker_role.id,
        policy=policy,
        opts=pulumi.ResourceOptions(parent=worker_role),
    )
