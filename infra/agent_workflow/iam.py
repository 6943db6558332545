"""Policy statements the constructs share."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam


def log_group_write(stack: cdk.Stack, log_group_name: str) -> iam.PolicyStatement:
    """Create and write log streams in one log group (name may end in a wildcard)."""
    return iam.PolicyStatement(
        actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        resources=[
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=log_group_name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
        ],
    )
