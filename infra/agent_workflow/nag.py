"""Acknowledging a cdk-nag finding at the construct it is about, with the reason.

cdk-nag (the AwsSolutions and Serverless packs, run by the functional tests at synth) reads
CDK's native acknowledgments: ``Validations.of(construct).acknowledge(...)``, with the id
``<pack>::<rule>[<finding>]``. Each call here is a reviewed exception, never a blanket one.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """``rule`` as cdk-nag names it, e.g. ``AwsSolutions-IAM5[Resource::*]``."""
    pack = rule.split("-", 1)[0]
    cdk.Validations.of(construct).acknowledge(
        cdk.Acknowledgment(id=f"{pack}::{rule}", reason=reason)
    )


def token_ref(construct: IConstruct, attribute: str) -> str:
    """How cdk-nag writes a GetAtt of ``construct``'s resource in a finding: <LogicalId.Attr>."""
    stack = cdk.Stack.of(construct)
    resource = construct.node.default_child or construct
    return f"<{stack.get_logical_id(resource)}.{attribute}>"  # type: ignore[arg-type]
