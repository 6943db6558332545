"""The LocalStack start-up patch that shares botocore's data loader: one loader per search
path for every session, and boto3 sessions (which append their data folder to their loader's
paths) do not make a shared loader's path list grow."""

from __future__ import annotations

import ast
import json
import sys
import threading
import tomllib
import types

import boto3
import botocore.exceptions
import botocore.loaders
import botocore.session
import pytest

from harness.settings import REPO_ROOT
from tests.support.helpers import plugin_module_with_stand_in_hooks


@pytest.fixture
def footprint(monkeypatch):
    return plugin_module_with_stand_in_hooks(monkeypatch, "footprint")


def test_one_loader_per_search_path(footprint):
    create = footprint.shared_loader_factory(botocore.loaders.create_loader)
    assert create(None) is create(None)
    assert create("/some/models") is create("/some/models")
    assert create("/some/models") is not create(None)
    assert "/some/models" in create("/some/models").search_paths


def _botocores_own_loaders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions make their loaders with botocore's own factory, as in a plain process, whatever
    the process's sessions share (the functional tier's plug-in shares one loader for its
    whole run, and a pytest run of both tiers loads it); undone after the test."""
    monkeypatch.setattr(botocore.session, "create_loader", botocore.loaders.create_loader)


def test_sessions_share_the_loader_and_its_paths_stay_put(footprint, monkeypatch):
    _botocores_own_loaders(monkeypatch)
    footprint.share_botocore_loaders()
    sessions = [boto3.Session(region_name="us-east-1") for _ in range(3)]
    loaders = {id(session._loader) for session in sessions}
    assert len(loaders) == 1
    paths = sessions[0]._loader.search_paths
    assert len(paths) == len(set(paths))  # boto3's data folder once, not once per session
    first = (
        sessions[0]
        .client("sts", aws_access_key_id="a", aws_secret_access_key="b")
        ._loader.load_service_model("sts", "service-2")
    )
    second = botocore.session.get_session().get_component("data_loader")
    assert second.load_service_model("sts", "service-2") is first  # parsed once


def test_localstacks_client_factories_get_the_shared_loader(footprint, monkeypatch):
    """LocalStack's connect_to and connect_externally_to, made (and their sessions' loaders
    with them) when localstack.aws.connect is imported, before the hook runs."""
    _botocores_own_loaders(monkeypatch)
    builtin = "/localstack/aws/data"

    def factory():  # as LocalStack's ClientFactory makes its session
        session = boto3.Session(region_name="us-east-1")
        session._loader.search_paths.insert(0, builtin)
        return types.SimpleNamespace(_session=session)

    connect = types.SimpleNamespace(connect_to=factory(), connect_externally_to=factory())
    monkeypatch.setitem(sys.modules, "localstack.aws.connect", connect)
    made_before = [f._session._loader for f in (connect.connect_to, connect.connect_externally_to)]
    assert made_before[0] is not made_before[1]
    footprint.share_botocore_loaders()
    shared = botocore.session.get_session().get_component("data_loader")
    for f in (connect.connect_to, connect.connect_externally_to):
        assert f._session._loader is shared
        assert f._session._session.get_component("data_loader") is shared
    assert shared.search_paths[0] == builtin  # the paths the factories had, in their order
    assert shared.search_paths == made_before[0].search_paths
    client = connect.connect_to._session.client(
        "sts", aws_access_key_id="a", aws_secret_access_key="b"
    )
    assert client._loader is shared


def test_localstacks_spec_loader_reads_the_files_the_shared_loader_has(footprint, tmp_path):
    """LocalStack's own loader (its parsers' specs) takes a model from the shared loader when
    both find the same file; a file of its own (an earlier search path) stays its own."""
    shared = botocore.loaders.create_loader()
    spec = botocore.loaders.create_loader()
    spec.load_data_with_path = footprint.reading_through(spec, shared)
    model = spec.load_service_model("sts", "service-2")
    assert model is shared.load_service_model("sts", "service-2")  # one parse, one copy
    own = tmp_path / "sts" / "2011-06-15"
    own.mkdir(parents=True)
    (own / "service-2.json").write_text(json.dumps({**model, "documentation": "patched"}))
    patched = botocore.loaders.Loader(extra_search_paths=[str(tmp_path)])
    assert patched.search_paths[0] == str(tmp_path)
    patched.load_data_with_path = footprint.reading_through(patched, shared)
    assert patched.load_service_model("sts", "service-2")["documentation"] == "patched"
    with pytest.raises(botocore.exceptions.DataNotFoundError):
        spec.load_data_with_path("no-such-service/2020-01-01/service-2")


def test_search_paths_ignore_a_path_they_have(footprint):
    paths = footprint.SearchPaths(["a", "b"])
    paths.append("b")
    paths.append("c")
    assert paths == ["a", "b", "c"]


def test_botocore_data_is_loaded_as_plain_dicts(footprint, monkeypatch):
    monkeypatch.setattr(botocore.loaders, "OrderedDict", botocore.loaders.OrderedDict)  # undone
    footprint.load_data_as_dicts()
    model = botocore.loaders.create_loader().load_service_model("sts", "service-2")
    shape = model["shapes"]["AssumeRoleRequest"]
    assert [type(data) for data in (model, shape, shape["members"])] == [dict, dict, dict]
    assert list(shape["members"])[:2] == ["RoleArn", "RoleSessionName"]  # file order kept


def test_finished_threads_are_joined_and_forgotten_unless_their_stop_does_something(footprint):
    release = threading.Event()
    running = threading.Thread(target=release.wait, daemon=True)
    done, done_with_on_stop = (threading.Thread(target=lambda: None) for _ in range(2))
    done_with_on_stop.on_stop = lambda thread: None
    for thread in (running, done, done_with_on_stop):
        thread.start()
    for thread in (done, done_with_on_stop):
        thread.join(timeout=5)
    not_a_thread = object()  # LocalStack's list also takes servers (anything with a stop)
    threads = [running, done, done_with_on_stop, not_a_thread]
    footprint.release_finished_threads(threads)
    assert threads == [running, done_with_on_stop, not_a_thread]
    release.set()
    running.join(timeout=5)
    footprint.release_finished_threads(threads)
    assert threads == [done_with_on_stop, not_a_thread]


def test_deferred_values_are_each_loaded_once_when_first_read(footprint):
    loads: list[str] = []

    def loader(key):
        return lambda: loads.append(key) or [key]

    values = footprint.DeferredValues({key: loader(key) for key in ("a", "b", "c")})
    assert sorted(values) == ["a", "b", "c"]
    assert "a" in values
    assert not loads
    assert values["a"] == ["a"]
    assert values.get("b") == ["b"]
    assert values.get("z", 0) == 0
    assert values["a"] is values["a"]
    assert loads == ["a", "b"]
    values["c"] = ["set"]  # a value set before it was read is not loaded over
    assert dict(values.items()) == {"a": ["a"], "b": ["b"], "c": ["set"]}
    assert loads == ["a", "b"]


def test_every_start_up_hook_is_registered():
    """LocalStack finds a hook through the plug-in's entry points, not its decorator: one
    decorated but not registered never runs."""
    plugin = REPO_ROOT / "harness/localstack_host_lambda"
    registered = {
        (group.removeprefix("localstack.hooks."), target)
        for group, entries in tomllib.loads((plugin / "pyproject.toml").read_text())["project"][
            "entry-points"
        ].items()
        for target in entries.values()
    }
    decorated = {
        (decorator.func.attr, f"localstack_host_lambda.{source.stem}:{function.name}")
        for source in (plugin / "localstack_host_lambda").glob("*.py")
        for function in ast.walk(ast.parse(source.read_text()))
        if isinstance(function, ast.FunctionDef)
        for decorator in function.decorator_list
        if isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and isinstance(decorator.func.value, ast.Name)
        and decorator.func.value.id == "hooks"
    }
    assert decorated
    assert decorated <= registered, decorated - registered


def _session_with_its_own_loader() -> botocore.session.Session:
    """A session whose data loader has loaded nothing yet, whatever loader the process's
    sessions share (the functional tier's plug-in shares one, and a pytest run of both tiers
    loads it)."""
    session = botocore.session.get_session()
    session.register_component("data_loader", botocore.loaders.create_loader())
    return session


def test_listing_a_services_regions_keeps_its_answer_not_the_services_model(footprint, monkeypatch):
    monkeypatch.setattr(
        botocore.session.Session,
        "get_available_regions",
        botocore.session.Session.get_available_regions,
    )  # undone
    listed = _session_with_its_own_loader().get_available_regions("dynamodb")
    footprint.forget_models_loaded_for_regions()
    session = _session_with_its_own_loader()
    loader = session.get_component("data_loader")
    assert session.get_available_regions("dynamodb") == listed
    # dynamodb's model, loaded to read its prefix, is not kept; the partitions are
    assert sorted(key[0] for key in loader._cache if "dynamodb" in key[1:]) == [
        "determine_latest_version",
        "list_api_versions",
    ]
    assert ("load_data_with_path", "endpoints") in loader._cache
    # the same question again (LocalStack's stores ask per partition) loads nothing
    monkeypatch.setattr(loader, "load_service_model", None)  # a call would fail
    assert session.get_available_regions("dynamodb") == listed
