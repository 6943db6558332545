"""LOCAL_DEVELOPMENT.md's Configuration table names every environment variable product code
reads: the settings classes' fields (by their declared variables) and any direct
``os.environ`` read left in agent/, contract/, harness/ and infra/."""

from __future__ import annotations

import re

import contract
from agent.environment import variables_of
from agent.settings import AgentSettings
from harness.agentcore_standin import StandInConfig
from harness.settings import REPO_ROOT, Settings

SETTINGS_CLASSES = (Settings, AgentSettings, StandInConfig)
PRODUCT_CODE = ("agent", "contract", "harness", "infra")
# Names in os.environ.get("X"), os.environ["X"], os.getenv("X"), "X" in os.environ, and the
# same reads through the contract's constants (os.environ[ENV_X]).
DIRECT_READ = re.compile(
    r"""os\.(?:environ\.get|getenv)\(\s*["']([A-Z_][A-Z0-9_]*)["']"""
    r"""|os\.environ\[\s*["']([A-Z_][A-Z0-9_]*)["']\s*\]"""
    r"""|["']([A-Z_][A-Z0-9_]*)["']\s+in\s+os\.environ"""
    r"""|os\.(?:environ\.get|getenv)\(\s*(ENV_[A-Z0-9_]+)\b"""
    r"""|os\.environ\[\s*(ENV_[A-Z0-9_]+)\s*\]"""
)
# Read by product code but set by a platform, never by people: the Lambda runtime's variables
# (LocalStack sets them for the host executor's bootstrap), and those the CDK stack gives the
# invoker Lambda.
NOT_USER_CONFIGURATION = {
    "_HANDLER",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_TIMEOUT",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_LOG_LEVEL",
    "LOCALSTACK_RUNTIME_ID",
    "LOCALSTACK_RUNTIME_ENDPOINT",
    "HOST_LAMBDA_LISTEN_PORT",
    "AGENT_RUNTIME_ARN",
    "MAX_TASK_CHARS",
    # Set by CI systems (the plugin's docker-mode fixture fails instead of skipping there).
    "CI",
    # The system's temporary folder; the CDK app points it at a folder of its own.
    "TMPDIR",
}


def settings_variables() -> set[str]:
    return {name for cls in SETTINGS_CLASSES for name in variables_of(cls)}


def direct_reads() -> dict[str, set[str]]:
    """Variable -> the product files that read it from os.environ by name."""
    found: dict[str, set[str]] = {}
    for folder in PRODUCT_CODE:
        for path in (REPO_ROOT / folder).rglob("*.py"):
            if "cdk.out" in path.parts or "node_modules" in path.parts:
                continue
            for groups in DIRECT_READ.findall(path.read_text()):
                name = next(group for group in groups if group)
                if name.startswith("ENV_"):
                    name = getattr(contract, name)  # a contract constant: its value is the name
                found.setdefault(name, set()).add(str(path.relative_to(REPO_ROOT)))
    return found


def configuration_section() -> str:
    text = (REPO_ROOT / "LOCAL_DEVELOPMENT.md").read_text()
    return text.split("## Configuration", 1)[1].split("\n## ", 1)[0]


def documented() -> set[str]:
    """The variables the section's table names (first column)."""
    rows = [line for line in configuration_section().splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1])}


def test_the_settings_classes_declare_their_variables() -> None:
    """The list comes from the fields, so a variable cannot be read without being declared."""
    assert variables_of(StandInConfig) == [
        "AGENTCORE_STANDIN_HOST",
        "AGENTCORE_STANDIN_PORT",
        "AGENT_URL",
        "AGENTCORE_STANDIN_TIMEOUT",
        "AGENTCORE_STANDIN_FAULT",
    ]
    assert {"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "TASK"} <= set(
        variables_of(Settings)
    )
    assert {"AGENT_MODEL", "AGENT_PORT", "SESSION_ID"} <= set(variables_of(AgentSettings))


def test_the_direct_read_scan_finds_reads() -> None:
    reads = direct_reads()
    assert "harness/runtime/installer.py" in reads["JAVA_HOME"]
    assert "infra/agent_workflow/agent_invoker_lambda/handler.py" in reads["AGENT_RUNTIME_ARN"]
    assert "AWS_LAMBDA_FUNCTION_NAME" in reads  # the `"X" in os.environ` form


def test_every_settings_variable_is_documented() -> None:
    missing = settings_variables() - documented()
    assert missing == set(), "add these to LOCAL_DEVELOPMENT.md ## Configuration"


def test_every_direct_read_is_documented_or_set_by_a_platform() -> None:
    missing = {
        name: files
        for name, files in direct_reads().items()
        if name not in documented() | NOT_USER_CONFIGURATION
    }
    assert missing == {}, "add these to LOCAL_DEVELOPMENT.md ## Configuration"


def test_the_table_documents_only_variables_that_are_read() -> None:
    stale = documented() - settings_variables() - set(direct_reads())
    assert stale == set(), "LOCAL_DEVELOPMENT.md ## Configuration names what nothing reads"
