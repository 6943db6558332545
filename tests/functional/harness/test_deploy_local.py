"""A local deploy runs the CDK CLI as little as it can, and never deploys a stale synth: the
bootstrap stack created beside the synth without `cdk bootstrap` (the CLI's own template,
asked of it once and kept, by CloudFormation's CreateStack: moto here), and a cloud assembly
reused only for the inputs it was made from (the cdk commands are recorded, not run)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

from contract import AGENTCORE_ENDPOINT_PARAMETER
from harness import assembly, deploy, local_bootstrap
from harness.runtime.docker import STANDIN_URL_IN_COMPOSE
from harness.settings import Settings

# What `cdk bootstrap --show-template --json` prints, in small: the stack `cdk deploy` checks.
BOOTSTRAP_TEMPLATE = {
    "Parameters": {
        **{name: {"Type": "String", "Default": ""} for name in local_bootstrap.PARAMETERS},
        "Qualifier": {"Type": "String", "Default": "hnb659fds"},
    },
    "Resources": {
        "CdkBootstrapVersion": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Type": "String",
                "Name": {"Fn::Sub": "/cdk-bootstrap/${Qualifier}/version"},
                "Value": "33",
            },
        }
    },
    "Outputs": {"BootstrapVersion": {"Value": {"Fn::GetAtt": ["CdkBootstrapVersion", "Value"]}}},
}


@dataclass
class Cdk:
    """The cdk commands a deploy ran, and where; a synth leaves an assembly behind."""

    out: Path
    commands: list[list[str]] = field(default_factory=list)
    cwds: dict[str, Path] = field(default_factory=dict)

    def run(self, command: list[str], settings: Settings, what: str, cwd: Path = deploy.INFRA_DIR):
        self.output(command, settings, what, cwd)

    def output(
        self, command: list[str], settings: Settings, what: str, cwd: Path = deploy.INFRA_DIR
    ) -> str:
        self.commands.append(command)
        self.cwds[command[1]] = cwd
        if command[1] == "synth" or (command[1] == "deploy" and "--app" not in command):
            self.out.mkdir(exist_ok=True)
            (self.out / "manifest.json").write_text("{}")
        return json.dumps(BOOTSTRAP_TEMPLATE, indent=2) if "--show-template" in command else ""

    def verbs(self) -> list[str]:
        return [command[1] for command in self.commands]

    def deploy_command(self) -> list[str]:
        [command] = [c for c in self.commands if c[1] == "deploy"]
        return command


@pytest.fixture
def cdk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cdk:
    recorder = Cdk(out=tmp_path / "cdk.out")
    # The cdk commands are recorded, not run: the checkout's lock (which make test's
    # integration lane holds while it deploys) is not theirs to wait for.
    monkeypatch.setattr(deploy, "DEPLOY_LOCK", tmp_path / "deploy.lock")
    monkeypatch.setattr(assembly, "ASSEMBLY_DIR", recorder.out)
    monkeypatch.setattr(assembly, "KEPT_DIR", tmp_path / "kept")
    monkeypatch.setattr(deploy, "_run", recorder.run)
    monkeypatch.setattr(deploy, "_output", recorder.output)
    monkeypatch.setattr(deploy, "ensure_cdk_cli", lambda settings, report: None)
    monkeypatch.setattr(deploy, "_ready_stack_tags", lambda settings, name=None: None)
    monkeypatch.setattr(deploy, "_remove_failed_stack", lambda settings, report: None)
    monkeypatch.setattr(deploy.warmup, "start_warming", lambda settings: [])
    monkeypatch.setattr(deploy, "_bootstrapped", lambda settings: True)
    return recorder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(target="local", runtime_dir=tmp_path / "runtime")


def _deploy(settings: Settings, messages: list[str] | None = None, **kwargs) -> None:
    report = messages.append if messages is not None else (lambda message: None)
    deploy.deploy(settings, runtime_mode="host", force=True, report=report, **kwargs)


@pytest.fixture
def emulator(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> object:
    """A target with no bootstrap stack yet: CloudFormation and SSM as moto serves them."""
    monkeypatch.setattr(deploy, "_bootstrapped", lambda settings: False)
    monkeypatch.setattr(
        deploy.aws, "client", lambda service, settings: boto3.client(service, "us-east-1")
    )
    return boto3.client("cloudformation", "us-east-1")


def test_the_first_deploy_bootstraps_without_the_cdk_cli_beside_the_synth(cdk, settings, emulator):
    # WHEN a local first deploy runs into a runtime with no bootstrap stack
    _deploy(settings)

    # THEN no `cdk bootstrap` ran: the CLI only printed its template (outside infra/, where
    # there is no app to synthesize), beside the synth, then the deploy took that assembly
    assert sorted(cdk.verbs()[:2]) == ["bootstrap", "synth"]
    assert cdk.verbs()[2:] == ["deploy"]
    [bootstrap] = [command for command in cdk.commands if command[1] == "bootstrap"]
    assert bootstrap[1:] == list(local_bootstrap.SHOW_TEMPLATE)
    assert not (cdk.cwds["bootstrap"] / "cdk.json").exists()
    assert cdk.cwds["bootstrap"] != deploy.INFRA_DIR
    command = cdk.deploy_command()
    assert command[command.index("--app") + 1] == str(cdk.out)
    # AND CloudFormation made the CDK's bootstrap stack from that template, with the
    # parameters `cdk bootstrap` gives it, and its version for `cdk deploy`
    [stack] = emulator.describe_stacks(StackName="CDKToolkit")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert "ChangeSetId" not in stack  # CreateStack, not a change set
    body = emulator.get_template(StackName="CDKToolkit")["TemplateBody"]  # moto: parsed
    assert (json.loads(body) if isinstance(body, str) else body) == BOOTSTRAP_TEMPLATE
    given = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert given == {**local_bootstrap.PARAMETERS, "Qualifier": "hnb659fds"}
    ssm = boto3.client("ssm", "us-east-1")
    assert ssm.get_parameter(Name="/cdk-bootstrap/hnb659fds/version")["Parameter"]["Value"] == "33"


def test_the_bootstrap_template_is_asked_of_the_cli_once_per_content(
    cdk, settings, emulator, monkeypatch, tmp_path
):
    def first_deploy() -> list[list[str]]:
        emulator.delete_stack(StackName="CDKToolkit")  # a fresh runtime
        cdk.commands.clear()
        _deploy(settings)
        return [c for c in cdk.commands if c[1] == "bootstrap"]

    # GIVEN the CLI's template file and lock as they are
    sources = [tmp_path / "bootstrap-template.yaml", tmp_path / "package-lock.json"]
    for source in sources:
        source.write_text("v1")
    monkeypatch.setattr(local_bootstrap, "TEMPLATE_SOURCES", tuple(sources))
    # WHEN fresh runtimes are bootstrapped THEN the CLI prints its template for the first only
    assert len(first_deploy()) == 1
    assert first_deploy() == []
    # AND again once the CLI (its lock) or its template file changed
    sources[1].write_text("v2")
    assert len(first_deploy()) == 1
    sources[0].write_text("v2")
    assert len(first_deploy()) == 1
    assert first_deploy() == []


@dataclass
class FailedBootstrap:
    """CloudFormation holding the bootstrap stack a failed first deploy left (what moto
    cannot leave): the calls made, and the stack's state after each."""

    status: str = "ROLLBACK_COMPLETE"
    calls: list[str] = field(default_factory=list)
    created: dict[str, object] = field(default_factory=dict)

    def describe_stacks(self, StackName: str) -> dict[str, object]:  # noqa: N803
        return {"Stacks": [{"StackName": StackName, "StackStatus": self.status}]}

    def delete_stack(self, StackName: str) -> None:  # noqa: N803
        self.calls.append("delete_stack")
        self.status = "DELETE_COMPLETE"

    def create_stack(self, **request: object) -> None:
        self.calls.append("create_stack")
        self.created = request
        self.status = "CREATE_COMPLETE"

    def get_waiter(self, name: str) -> FailedBootstrap:
        self.calls.append(name)
        return self

    def wait(self, **_: object) -> None:
        pass


def test_a_failed_bootstrap_stack_is_made_again():
    cloudformation = FailedBootstrap()
    local_bootstrap.create(cloudformation, BOOTSTRAP_TEMPLATE)
    assert cloudformation.calls == [
        "delete_stack",
        "stack_delete_complete",
        "create_stack",
        "stack_create_complete",
    ]
    # with the capabilities `cdk bootstrap` gives (its roles have names), never protected
    assert cloudformation.created["Capabilities"] == list(local_bootstrap.CAPABILITIES)
    assert cloudformation.created["EnableTerminationProtection"] is False


def test_the_aws_stage_bootstraps_with_cdk_bootstrap(cdk, monkeypatch):
    # GIVEN an AWS account with no bootstrap stack (what it needs is given)
    monkeypatch.setattr(deploy, "_bootstrapped", lambda settings: False)
    monkeypatch.setattr(deploy, "check_aws_deploy", lambda settings, context, report: {})
    # WHEN the aws stage deploys
    deploy.deploy(Settings(target="aws"), runtime_mode="aws", report=lambda message: None)
    # THEN the CLI bootstraps it (its change set), in infra/, before the deploy
    assert cdk.verbs() == ["bootstrap", "deploy"]
    assert cdk.commands[0][1:] == ["bootstrap"]
    assert cdk.cwds["bootstrap"] == deploy.INFRA_DIR


def test_an_unchanged_stack_is_deployed_from_its_assembly_without_a_synth(cdk, settings):
    _deploy(settings)
    assert cdk.verbs() == ["deploy"]
    assert "--app" not in cdk.deploy_command()  # the deploy synthesized it

    cdk.commands.clear()
    messages: list[str] = []
    _deploy(settings, messages)
    assert cdk.verbs() == ["deploy"]
    assert "--app" in cdk.deploy_command()
    assert any("infra/cdk.out holds this synth already" in message for message in messages)


def test_a_changed_context_synthesizes_again(cdk, settings):
    _deploy(settings)
    cdk.commands.clear()
    _deploy(settings, context={"max_polls": "31"})
    assert "--app" not in cdk.deploy_command()
    assert "max_polls=31" in cdk.deploy_command()


def _stand_in(command: list[str]) -> str:
    """The AgentCoreEndpoint parameter a deploy command passes."""
    parameter = command[command.index("--parameters") + 1]
    name, _, url = parameter.partition("=")
    assert name == AGENTCORE_ENDPOINT_PARAMETER
    return url


def test_runtimes_on_other_ports_share_one_synth_each_with_its_own_stand_in(cdk, settings):
    # GIVEN a deploy into the runtime on the configured ports
    _deploy(settings)
    assert _stand_in(cdk.deploy_command()) == "http://127.0.0.1:8090"
    cdk.commands.clear()

    # WHEN a runtime on other ports (a test's own) deploys, then the docker one
    messages: list[str] = []
    other_ports = dataclasses.replace(settings, standin_port=45999)
    deploy.deploy(other_ports, runtime_mode="host", force=True, report=messages.append)
    deploy.deploy(settings, runtime_mode="docker", force=True, report=messages.append)

    # THEN neither synthesized: both deployed that synth, each given its own stand-in's URL
    assert cdk.verbs() == ["deploy", "deploy"]
    host, docker = cdk.commands
    assert "--app" in host
    assert "--app" in docker
    assert _stand_in(host) == "http://127.0.0.1:45999"
    assert _stand_in(docker) == STANDIN_URL_IN_COMPOSE
    assert sum("holds this synth already" in message for message in messages) == 2


def test_another_stand_in_is_another_stack(cdk, settings, monkeypatch):
    # A stack deployed for the stand-in on one port is not up to date for another: the tags
    # (the stack's fingerprint) differ, so the deploy runs and sets the new URL.
    tags: dict[str, str] = {}

    def record(command: list[str], *_: object, **__: object) -> None:
        cdk.commands.append(command)
        tags.update(command[i + 1].split("=", 1) for i, a in enumerate(command) if a == "--tags")

    monkeypatch.setattr(deploy, "_run", record)
    monkeypatch.setattr(deploy, "_ready_stack_tags", lambda settings, name=None: dict(tags))
    deploy.deploy(settings, runtime_mode="host", report=lambda message: None)
    assert deploy.deploy(settings, runtime_mode="host", report=lambda message: None).skipped
    other_ports = dataclasses.replace(settings, standin_port=45999)
    assert not deploy.deploy(other_ports, runtime_mode="host", report=lambda m: None).skipped
    assert _stand_in(cdk.commands[-1]) == "http://127.0.0.1:45999"


def test_two_contexts_taking_turns_each_reuse_their_own_synth(cdk, settings):
    # GIVEN deploys with two contexts, one after the other (a demo's budget, then the tests')
    _deploy(settings)
    _deploy(settings, context={"max_polls": "31"})
    cdk.commands.clear()
    # WHEN the first context is deployed again
    messages: list[str] = []
    _deploy(settings, messages)
    # THEN its synth is deployed as it was kept, with no synth, and said so
    assert cdk.verbs() == ["deploy"]
    app = cdk.deploy_command()[cdk.deploy_command().index("--app") + 1]
    assert app != str(cdk.out)
    assert (Path(app) / "manifest.json").is_file()
    assert any("the synth kept in" in message for message in messages)


def test_an_edit_of_the_infra_code_synthesizes_again(cdk, settings, monkeypatch):
    _deploy(settings)
    cdk.commands.clear()
    monkeypatch.setattr(deploy, "deploy_fingerprint", lambda settings, args: "edited")
    _deploy(settings)
    assert "--app" not in cdk.deploy_command()


def test_a_synth_of_other_inputs_is_not_reused(cdk, settings):
    # GIVEN a deploy, then `make synth` with other inputs (it writes infra/cdk.out)
    _deploy(settings)
    assembly.remember("another synth")
    cdk.commands.clear()
    # WHEN the unchanged stack is deployed again THEN not from infra/cdk.out: from the copy
    # kept of its own synth
    _deploy(settings)
    app = cdk.deploy_command()[cdk.deploy_command().index("--app") + 1]
    assert app == str(assembly.KEPT_DIR / assembly.inputs_key(_fingerprint(settings)))
    # and with no copy kept, it is synthesized again
    shutil.rmtree(assembly.KEPT_DIR)
    cdk.commands.clear()
    _deploy(settings)
    assert "--app" not in cdk.deploy_command()


def _fingerprint(settings: Settings) -> str:
    return deploy.deploy_fingerprint(settings, deploy.context_args(settings, "host", {}))


def test_a_failed_deploy_leaves_no_assembly_to_reuse(cdk, settings, monkeypatch):
    def failing(command: list[str], settings: Settings, what: str, **_: object) -> None:
        cdk.run(command, settings, what)
        raise deploy.DeployError(f"{what} failed")

    monkeypatch.setattr(deploy, "_run", failing)
    with pytest.raises(deploy.DeployError):
        _deploy(settings)
    monkeypatch.setattr(deploy, "_run", cdk.run)
    cdk.commands.clear()
    _deploy(settings)
    assert "--app" not in cdk.deploy_command()


def test_the_cdk_app_keeps_its_bytecode_out_of_the_sources(monkeypatch, settings):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.delenv("PYTHONPYCACHEPREFIX", raising=False)  # a test run may have chosen one
    env = deploy.cdk_environment(settings)
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPYCACHEPREFIX"] == str(settings.runtime_dir / "cache" / "pycache")


def test_local_deploys_skip_the_cdk_template_validation_the_aws_stage_keeps(settings):
    assert deploy.cdk_environment(settings)["CDK_VALIDATION"] == "false"
    assert "CDK_VALIDATION" not in deploy.cdk_environment(Settings(target="aws"))


def test_the_cdk_cli_sends_no_telemetry(settings):
    for target in (settings, Settings(target="aws")):
        assert deploy.cdk_environment(target)["CDK_DISABLE_CLI_TELEMETRY"] == "1"


def test_a_fresh_synth_synthesizes_and_leaves_the_kept_copies(cdk, settings):
    # GIVEN synths of two contexts kept (another lane may be deploying one of them)
    _deploy(settings, context={"max_polls": "31"})
    _deploy(settings)
    copies = sorted(path.name for path in assembly.KEPT_DIR.iterdir())
    cdk.commands.clear()
    # WHEN make bench's first deploy asks for a fresh synth
    _deploy(settings, fresh_synth=True)
    # THEN it synthesizes, though a synth of the same inputs is kept, and removes no copy
    assert "--app" not in cdk.deploy_command()
    assert sorted(path.name for path in assembly.KEPT_DIR.iterdir()) == copies


def test_make_synth_puts_back_a_kept_synth_of_the_same_inputs_without_the_cli(cdk, settings):
    # GIVEN a deploy's synth kept, then infra/cdk.out holding another context's
    _deploy(settings)
    _deploy(settings, context={"max_polls": "31"})
    (cdk.out / "stale.json").write_text("{}")
    cdk.commands.clear()
    # WHEN `make synth` runs with the first deploy's inputs
    messages: list[str] = []
    deploy.synth(settings, report=messages.append)
    # THEN no CDK command ran: infra/cdk.out holds that synth again, whole, and says so
    assert cdk.verbs() == []
    assert assembly.reusable(assembly.inputs_key(_fingerprint(settings)))
    assert not (cdk.out / "stale.json").exists()
    assert any("is kept: put in infra/cdk.out" in message for message in messages)
    # AND with other inputs it synthesizes
    deploy.synth(dataclasses.replace(settings, local_max_polls=12), report=messages.append)
    assert cdk.verbs() == ["synth"]
