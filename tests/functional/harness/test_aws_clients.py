"""harness.aws: botocore's clients without boto3, and a data loader that tells whether it
knows a service from that service's folders alone, with botocore's own answers, and parses
each of botocore's data files once (then reads what it kept)."""

from __future__ import annotations

import json
import os

import botocore.loaders
import pytest
from botocore.exceptions import UnknownServiceError

from harness import aws
from harness.settings import Settings
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


def test_the_sessions_search_botocores_paths(tmp_path):
    """(In this tier boto3's sessions may have added its data folder: a shared loader.)"""
    for session in (aws._local_session(tmp_path), aws._aws_session(tmp_path)):
        loader = session.get_component("data_loader")
        assert isinstance(loader, aws.ServiceLoader)
        assert isinstance(loader.file_loader, aws.KeptFileLoader)
        assert loader.file_loader.folder == tmp_path
        assert set(botocore.loaders.create_loader().search_paths) <= set(loader.search_paths)


def test_each_data_file_is_parsed_once_per_version(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    endpoints = data / "endpoints.json"
    endpoints.write_text(json.dumps({"partitions": [{"partition": "aws"}], "version": 3}))
    kept = tmp_path / "kept"
    first = aws.KeptFileLoader(kept).load_file(str(data / "endpoints"))
    assert first == {"partitions": [{"partition": "aws"}], "version": 3}
    assert len(list(kept.glob("*.marshal"))) == 1

    # Another process (loader) reads what the first one kept: it parses nothing.
    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(botocore.loaders.json, "loads", no_parse)
    assert aws.KeptFileLoader(kept).load_file(str(data / "endpoints")) == first
    monkeypatch.undo()

    # A changed file (another botocore) is parsed again.
    endpoints.write_text(json.dumps({"partitions": [], "version": 4}))
    os.utime(endpoints, ns=(0, 0))
    assert aws.KeptFileLoader(kept).load_file(str(data / "endpoints")) == {
        "partitions": [],
        "version": 4,
    }
    assert aws.KeptFileLoader(kept).load_file(str(data / "nothing")) is None


def test_a_client_keeps_the_data_it_parsed_in_the_runtimes_cache(tmp_path):
    settings = Settings(target="local", runtime_dir=tmp_path)
    aws.client("sqs", settings)
    kept = list(aws.data_folder(settings).glob("*.marshal"))
    assert len(kept) >= 3  # the endpoints, the service's model and its endpoint rules
