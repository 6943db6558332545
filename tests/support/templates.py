"""Synthesize the CDK app in-process and check its templates offline: cfn-lint, cdk-nag, and
the state machine definition rendered to plain JSON (cfn-lint skips a definition built with
Fn::Join, so the tests render one and lint that too). A synth of the app, as it is or as a
test patched or edited it (the key names the patch, or holds the edit's source), is kept by
content (tests/support/synth_cache.py): each is done once, here or in another test process;
so are cfn-lint's findings on a template (tests/support/lint_cache.py).
aws-cdk-lib is imported only for a synth, so a process that reads kept templates (an
end-to-end worker) never loads it."""

from __future__ import annotations

import copy
import functools
import inspect
import json
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tests.support import lint_cache, synth_cache

if TYPE_CHECKING:
    import aws_cdk as cdk
    import pytest
    from cfnlint.runner import Runner

    from agent_workflow.stack import AgentWorkflowStack

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT / "infra") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "infra"))

# What the rendered templates stand in for the deploy-time values (a plausible account).
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "AgentWorkflow",
}
# cfn-lint checks every region a stage may deploy to; one is enough for the schemas we use.
LINT_REGIONS = ["us-east-1"]
# cfn-lint findings that come from CDK's own construction, not from our choices, by rule and
# the type of the resource they are on. Each says why it is accepted.
CFN_LINT_ACCEPTED = {
    # CDK's Function and StateMachine depend on their role and its default policy, so the
    # policy exists before the first call; the role part is also ordered by the role's GetAtt.
    # Redundant, harmless, and made inside the L2 constructs.
    ("W3005", "AWS::Lambda::Function"): "CDK's DependsOn on the function's role",
    ("W3005", "AWS::StepFunctions::StateMachine"): "CDK's DependsOn on the state machine's role",
}


@dataclass(frozen=True)
class NagFinding:
    rule: str
    path: str
    severity: str
    description: str

    def __str__(self) -> str:
        return f"{self.severity} {self.rule} at {self.path}: {self.description}"


class Synthesized:
    """One stage of the app synthesized into ``outdir``: its template and cloud assembly (with
    the staged assets), kept by content. ``patched`` is what the caller patched in the app
    (``returning``: each patched function and the value it now gives): a synth of the app so
    patched is kept under a key of its own."""

    def __init__(
        self, stage: str, outdir: Path, *, patched: Mapping[str, str] | None = None
    ) -> None:
        def synthesize(into: Path) -> None:
            app, _ = app_stack(stage, into)
            app.synth()

        options: dict[str, object] = {"context": {}}
        if patched:
            options["patched"] = dict(patched)
        synth_cache.kept_synth(stage, options, outdir, synthesize, assembly=True)
        self.outdir = outdir
        self.template = stack_template(outdir)
        self.assets = json.loads((self.outdir / "AgentWorkflow.assets.json").read_text())

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == kind
        }

    def one(self, kind: str) -> dict[str, Any]:
        (resource,) = self.resources(kind).values()
        return resource

    def states(self) -> dict[str, Any]:
        """The state machine's states, from its Fn::Join definition (references as text)."""
        machine = self.one("AWS::StepFunctions::StateMachine")
        states: dict[str, Any] = joined_definition(machine)["States"]
        return states

    def layer_key(self) -> str:
        key: str = self.one("AWS::Lambda::LayerVersion")["Properties"]["Content"]["S3Key"]
        return key

    def function_key(self) -> str:
        key: str = self.one("AWS::Lambda::Function")["Properties"]["Code"]["S3Key"]
        return key

    def staged(self, key: str) -> Path:
        """Where the asset uploaded under ``key`` is staged in the assembly."""
        (asset,) = [
            a
            for a in self.assets["files"].values()
            if any(d["objectKey"] == key for d in a["destinations"].values())
        ]
        return self.outdir / asset["source"]["path"]


def returning(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str, value: str
) -> dict[str, str]:
    """Patch ``module.name`` (a function of the app) to return ``value``; what it patched, for
    ``Synthesized``'s ``patched``."""
    monkeypatch.setattr(module, name, lambda: value)
    return {f"{module.__name__}.{name}": value}


def app_stack(
    stage: str, outdir: Path | None = None, **context: Any
) -> tuple[cdk.App, AgentWorkflowStack]:
    """The CDK app of ``stage`` (with more ``context``) and its one stack, as infra/app.py
    makes them."""
    import aws_cdk as cdk

    from agent_workflow.config import StageConfig
    from agent_workflow.stack import AgentWorkflowStack

    app = cdk.App(outdir=str(outdir) if outdir else None, context={"stage": stage, **context})
    config = StageConfig.from_context(app.node)
    return app, AgentWorkflowStack(app, config.stack_name, config=config, env=config.environment)


def joined_definition(machine: dict[str, Any]) -> dict[str, Any]:
    """A state machine resource's definition, from its Fn::Join (references as text)."""
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else json.dumps(p).replace('"', "'") for p in parts)
    definition: dict[str, Any] = json.loads(text)
    return definition


def synth(
    stage: str,
    outdir: Path | None = None,
    nag: bool = False,
    edit: Callable[[cdk.Stack], None] | None = None,
    **context: Any,
) -> tuple[cdk.Stack, dict[str, Any], list[NagFinding]]:
    """One stack of the app, its template, and (with ``nag``) cdk-nag's AwsSolutions and
    Serverless findings, read from CDK's policy validation report. ``edit`` changes the stack
    before synth (a test's deliberate defect). Synthesized now: ``synthesized`` reads the app
    as it is from the synths kept by content."""
    import aws_cdk as cdk

    app, stack = app_stack(stage, outdir, **{"@aws-cdk/core:validationReportJson": True, **context})
    if edit:
        edit(stack)
    if nag:
        import cdk_nag

        cdk.Validations.of(app).add_plugins(
            cdk_nag.AwsSolutionsChecks(app), cdk_nag.ServerlessChecks(app)
        )
    try:
        assembly = app.synth()
    except RuntimeError as error:  # the plugins found errors: the report says which
        if "ValidationFailed" not in str(error) or outdir is None:
            raise
        assembly = None
    findings: list[NagFinding] = []
    if nag:
        assert outdir is not None, "cdk-nag's report needs an output directory"
        findings = nag_findings(outdir)
    if assembly is not None:
        template = assembly.get_stack_by_name(stack.stack_name).template
    else:
        template = json.loads((outdir / stack.template_file).read_text())  # type: ignore[operator]
    return stack, template, findings


def nag_findings(outdir: Path) -> list[NagFinding]:
    """cdk-nag's findings in the policy validation report a synth wrote into ``outdir``."""
    report = outdir / "policy-validation-report.json"
    if not report.exists():
        return []
    return [
        NagFinding(
            rule=violation["ruleName"],
            path=resource["constructPath"],
            severity=violation["severity"],
            description=violation["description"],
        )
        for plugin in json.loads(report.read_text())["pluginReports"]
        for violation in plugin["violations"]
        for resource in violation["violatingResources"]
    ]


def stack_template(outdir: Path) -> dict[str, Any]:
    """The template of the app's one stack, as a synth wrote it into ``outdir``."""
    (file,) = outdir.glob("*.template.json")
    template: dict[str, Any] = json.loads(file.read_text())
    return template


@functools.cache
def synthesized(
    stage: str, edit: Callable[[cdk.Stack], None] | None = None, **context: str
) -> tuple[dict[str, Any], tuple[NagFinding, ...]]:
    """The stage's template with ``context`` (the default one without), and for aws cdk-nag's
    findings: the app as it is, or with a test's deliberate ``edit`` of the stack before the
    synth, synthesized once per content (tests/support/synth_cache.py) and read once per
    process; the modules that only read it share it. An edit's source is part of the key: it
    must hold the whole edit (nothing from outside it)."""
    nag = stage == "aws"

    def synthesize(into: Path) -> None:
        synth(stage, into, nag=nag, edit=edit, **context)

    with tempfile.TemporaryDirectory(prefix=f"cdk-{stage}-") as name:
        outdir = Path(name)
        options: dict[str, object] = {"context": context, "cdk-nag": nag}
        if edit:
            options["edit"] = inspect.getsource(edit)
        synth_cache.kept_synth(stage, options, outdir, synthesize, assembly=False)
        return stack_template(outdir), tuple(nag_findings(outdir))


@functools.cache
def _cfn_lint_runner() -> Runner:
    """cfn-lint's runner, whose rules its API loads again for each template (~0.2 CPU-s),
    made once per process: its CLI, too, runs one set of rules over every template."""
    from cfnlint.api import ManualArgs
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(**ManualArgs(regions=LINT_REGIONS)))


def cfn_lint(template: dict[str, Any]) -> list[str]:
    """cfn-lint's findings on a template (kept by content: tests/support/lint_cache.py), less
    the ones CFN_LINT_ACCEPTED explains."""
    found = []
    for rule, path, message in lint_cache.kept_findings(
        json.dumps(template), LINT_REGIONS, _cfn_lint_findings
    ):
        kind = (
            template["Resources"].get(path[1], {}).get("Type")
            if len(path) > 1 and path[0] == "Resources"
            else None
        )
        if (rule, kind) not in CFN_LINT_ACCEPTED:
            found.append(f"{rule} {'/'.join(map(str, path))}: {message}")
    return found


def _cfn_lint_findings(text: str) -> list[lint_cache.Finding]:
    """cfn-lint's findings on the template ``text``, as cfnlint.api.lint finds them: the
    template decoded from its JSON, then run."""
    from cfnlint.decode import decode_str

    decoded, matches = decode_str(text)
    if not matches and decoded is not None:
        matches = list(_cfn_lint_runner().validate_template(decoded))
    return [(match.rule.id, tuple(match.path), match.message) for match in matches]


def _resolve(value: Any, template: dict[str, Any]) -> Any:
    """Stand plausible deploy-time values in for Ref (a parameter: its default), Fn::GetAtt,
    Fn::Join and pseudo params."""
    if isinstance(value, list):
        return [_resolve(v, template) for v in value]
    if not isinstance(value, dict):
        return value
    resources = template["Resources"]
    if "Ref" in value:
        name = value["Ref"]
        if name in PSEUDO:
            return PSEUDO[name]
        if name in template.get("Parameters", {}):
            return template["Parameters"][name]["Default"]
        return example_physical_id(name, resources[name]["Type"])
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return example_attribute(logical_id, resources[logical_id]["Type"], attribute)
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_resolve(p, template)) for p in parts)
    return {k: _resolve(v, template) for k, v in value.items()}


def example_physical_id(logical_id: str, kind: str) -> str:
    """What Ref returns for a resource, in the shape AWS gives it."""
    region, account = PSEUDO["AWS::Region"], PSEUDO["AWS::AccountId"]
    name = f"AgentWorkflow-{logical_id}"[:64]
    return {
        "AWS::StepFunctions::StateMachine": (
            f"arn:aws:states:{region}:{account}:stateMachine:{name}"
        ),
        "AWS::SQS::Queue": f"https://sqs.{region}.amazonaws.com/{account}/{name}",
    }.get(kind, name)


def example_attribute(logical_id: str, kind: str, attribute: str) -> str:
    region, account = PSEUDO["AWS::Region"], PSEUDO["AWS::AccountId"]
    name = f"AgentWorkflow-{logical_id}"[:64]
    arns = {
        "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{account}:function:{name}",
        "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
        "AWS::IAM::Role": f"arn:aws:iam::{account}:role/{name}",
        "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{name}",
        "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{name}:*",
        "AWS::Events::Rule": f"arn:aws:events:{region}:{account}:rule/{name}",
        "AWS::StepFunctions::StateMachine": (
            f"arn:aws:states:{region}:{account}:stateMachine:{name}"
        ),
        # AgentCore runtime ids are the runtime's name plus a random suffix.
        "AWS::BedrockAgentCore::Runtime": (
            f"arn:aws:bedrock-agentcore:{region}:{account}:runtime/AgentWorkflow_agent-a1B2c3D4e5"
        ),
    }
    if attribute in ("Arn", "AgentRuntimeArn") and kind in arns:
        return arns[kind]
    if attribute == "AgentRuntimeId":
        return arns["AWS::BedrockAgentCore::Runtime"].rsplit("/", 1)[1]
    raise KeyError(f"no example for {logical_id}.{attribute} ({kind})")


def resolve(value: Any, template: dict[str, Any]) -> Any:
    return _resolve(value, template)


def state_machine(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (item,) = (
        (logical_id, resource)
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    )
    return item


def rendered_definition(template: dict[str, Any]) -> dict[str, Any]:
    """The state machine's definition as AWS will see it, with example ARNs in it."""
    _, machine = state_machine(template)
    return json.loads(resolve(machine["Properties"]["DefinitionString"], template))


def with_rendered_definition(
    template: dict[str, Any], definition: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A copy of the template whose state machine carries its definition as a plain string,
    the form cfn-lint validates against the States Language schema."""
    rendered = copy.deepcopy(template)
    logical_id, _ = state_machine(template)
    text = json.dumps(definition if definition is not None else rendered_definition(template))
    rendered["Resources"][logical_id]["Properties"]["DefinitionString"] = text
    return rendered
