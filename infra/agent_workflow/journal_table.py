"""The session journal: one item per session (its key: ``contract.journal_key``)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from contract import JOURNAL_TABLE_SCHEMA, PARTITION_KEY, SORT_KEY


class JournalTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, retain: bool) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(
                name=PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode(JOURNAL_TABLE_SCHEMA["BillingMode"]),
            removal_policy=cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY,
            # A retained journal is the record of every session: restorable to any second of
            # the last 35 days (cdk-nag AwsSolutions-DDB3). A local table is thrown away.
            point_in_time_recovery_specification=(
                dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True)
                if retain
                else None
            ),
        )
