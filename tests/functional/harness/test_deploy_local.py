"""A local deploy runs the CDK CLI as little as it can, and never deploys a stale synth: the
bootstrap beside the synth (and outside infra/, so it does not synthesize the app itself), and
a cloud assembly reused only for the inputs it was made from (the cdk commands are recorded,
not run)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import assembly, deploy
from harness.settings import Settings


@dataclass
class Cdk:
    """The cdk commands a deploy ran, and where; a synth leaves an assembly behind."""

    out: Path
    commands: list[list[str]] = field(default_factory=list)
    cwds: dict[str, Path] = field(default_factory=dict)

    def run(self, command: list[str], settings: Settings, what: str, cwd: Path = deploy.INFRA_DIR):
        self.commands.append(command)
        self.cwds[command[1]] = cwd
        if command[1] == "synth" or (command[1] == "deploy" and "--app" not in command):
            self.out.mkdir(exist_ok=True)
            (self.out / "manifest.json").write_text("{}")

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


def test_the_first_deploy_synthesizes_beside_the_bootstrap_then_deploys_that_assembly(
    cdk, settings, monkeypatch
):
    monkeypatch.setattr(deploy, "_bootstrapped", lambda settings: False)
    _deploy(settings)
    assert sorted(cdk.verbs()[:2]) == ["bootstrap", "synth"]
    assert cdk.verbs()[2:] == ["deploy"]
    # outside infra/ (no cdk.json: no synth of its own), the local account given
    assert not (cdk.cwds["bootstrap"] / "cdk.json").exists()
    assert cdk.cwds["bootstrap"] != deploy.INFRA_DIR
    assert "aws://000000000000/us-east-1" in cdk.commands[cdk.verbs().index("bootstrap")]
    command = cdk.deploy_command()
    assert command[command.index("--app") + 1] == str(cdk.out)


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


def test_two_contexts_taking_turns_each_reuse_their_own_synth(cdk, settings):
    # GIVEN deploys with two contexts, one after the other (make test's host and docker tiers)
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
