"""The controls every Paddock S3 bucket gets: no public access, owner-enforced objects,
server-side encryption with bucket keys."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def private_bucket(name: str, bucket: aws.s3.Bucket) -> pulumi.ResourceOptions:
    """Lock ``bucket`` down; returns the options for further resources under it."""
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
        rules=[
            {
                "apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                "bucket_key_enabled": True,
            }
        ],
        opts=child,
    )
    return child
