"""harness.aws: botocore's clients without boto3, and a data loader that tells whether it
knows a service from that service's folders alone, with botocore's own answers."""

from __future__ import annotations

import botocore.loaders
import pytest
from botocore.exceptions import UnknownServiceError

from harness import aws
from tests.support.helpers import modules_loaded_after

HARNESS_SERVICES = ("cloudformation", "dynamodb", "events", "sqs", "stepfunctions", "sts")
KINDS = ("service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2")


def test_a_client_imports_neither_boto3_nor_s3transfer():
    code = (
        "from harness import aws\nfrom harness.settings import Settings\n"
        "aws.client('events', Settings(target='local'))\n"
        "aws.client('events', Settings(target='aws', region='eu-west-1'))"
    )
    loaded = modules_loaded_after(code, ("botocore.client", "boto3", "s3transfer"))
    assert loaded == {"botocore.client": True, "boto3": False, "s3transfer": False}


@pytest.mark.parametrize("kind", KINDS)
def test_the_loader_gives_botocores_models(kind):
    ours = aws.ServiceLoader()
    botocores = botocore.loaders.create_loader()
    for service in HARNESS_SERVICES:
        known = service in botocores.list_available_services(kind)
        assert ours._knows(service, kind) == known, service
        if known:
            assert ours.load_service_model(service, kind) == botocores.load_service_model(
                service, kind
            )


@pytest.mark.parametrize("name", ["no-such-service", "dynamodb/../sqs", "..", ""])
def test_an_unknown_service_gets_botocores_error(name):
    with pytest.raises(UnknownServiceError) as ours:
        aws.ServiceLoader().load_service_model(name, "service-2")
    with pytest.raises(UnknownServiceError) as botocores:
        botocore.loaders.create_loader().load_service_model(name, "service-2")
    assert str(ours.value) == str(botocores.value)


def test_the_sessions_search_botocores_paths():
    """(In this tier boto3's sessions may have added its data folder: a shared loader.)"""
    for session in (aws._local_session(), aws._aws_session()):
        loader = session.get_component("data_loader")
        assert isinstance(loader, aws.ServiceLoader)
        assert set(botocore.loaders.create_loader().search_paths) <= set(loader.search_paths)
