"""The Lambda code as an S3 object: a private code bucket and the package under a content-hashed
key. An unchanged package keeps its key and asset hash (no upload, no function update); a
changed one gets a new key, and both functions point at it (``source_code_hash`` too)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from paddock_infra import policies
from paddock_infra.federation import AwsNames
from paddock_infra.packaging import Package

CODE_PREFIX = "lambda/"
"""Keys are ``lambda/aws-lambda-<sha256[:16]>.zip``."""


@dataclass
class AwsCode:
    """Where both functions' code is: bucket, key, and the hash Lambda reports back."""

    bucket: aws.s3.Bucket
    object: aws.s3.BucketObjectv2
    package: Package

    @property
    def source_code_hash(self) -> str:
        """Base64 of the zip's SHA-256, as Lambda reports ``CodeSha256``."""
        return base64.b64encode(bytes.fromhex(self.package.sha256)).decode()


def lambda_key(package: Package) -> str:
    """The S3 key of ``package``: a function of its bytes only."""
    return CODE_PREFIX + package.key("aws-lambda")


def build_code(names: AwsNames, package: Package, parent: pulumi.Resource) -> AwsCode:
    opts = pulumi.ResourceOptions(parent=parent)
    name = f"{names.base}-code"
    bucket = aws.s3.Bucket(
        name,
        bucket=pulumi.Output.concat(names.base, "-code-", names.account_id),
        # Only build artefacts live here, each reproducible from a commit.
        force_destroy=True,
        opts=opts,
    )
    child = pulumi.ResourceOptions(parent=bucket)
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-sse",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        opts=child,
    )
    aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket.id,
        policy=bucket.arn.apply(
            lambda arn: json.dumps(policies.deny_insecure_transport("s3", [arn, f"{arn}/*"]))
        ),
        opts=child,
    )
    obj = aws.s3.BucketObjectv2(
        f"{names.base}-lambda-package",
        bucket=bucket.id,
        key=lambda_key(package),
        source=pulumi.FileAsset(str(package.path)),
        content_type="application/zip",
        opts=child,
    )
    return AwsCode(bucket=bucket, object=obj, package=package)
