"""Paddock infrastructure as Pulumi component resources (one per cloud)."""

from __future__ import annotations

from paddock_infra.aws import AwsStack
from paddock_infra.azure import AzureStack
from paddock_infra.config import InfraConfig, InfraConfigError, load_config
from paddock_infra.federation import AwsNames, AwsPeer, AzurePeer
from paddock_infra.program import build, main

__all__ = [
    "AwsNames",
    "AwsPeer",
    "AwsStack",
    "AzurePeer",
    "AzureStack",
    "InfraConfig",
    "InfraConfigError",
    "build",
    "load_config",
    "main",
]
