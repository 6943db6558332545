"""The local runtime's CDK bootstrap stack, which the harness creates without `cdk bootstrap`
(harness/local_bootstrap.py), is the one `cdk bootstrap` makes: the parameters it gave a new
stack, and the real CLI, run against it, finds nothing to change in its template; and
`cdk deploy` deployed the stack on it (the fixture)."""

from __future__ import annotations

from pathlib import Path

from harness import commands, deploy

# The parameters of the stack `cdk bootstrap aws://000000000000/us-east-1` (CLI 2.1148.1) made
# in a fresh LocalStack. The CLI keeps an existing stack's trusted accounts, execution policies
# and key, so its "no changes" below does not cover those: they are compared here.
CDK_BOOTSTRAP_PARAMETERS = {
    "TrustedAccounts": "",
    "TrustedAccountsForLookup": "",
    "CloudFormationExecutionPolicies": "",
    "FileAssetsBucketName": "",
    "FileAssetsBucketKmsKeyId": "AWS_MANAGED_KEY",
    "ContainerAssetsRepositoryName": "",
    "Qualifier": "hnb659fds",
    "PublicAccessBlockConfiguration": "true",
    "InputPermissionsBoundary": "",
    "UseExamplePermissionsBoundary": "false",
    "ApplyPermissionsBoundaryToAllRoles": "false",
    "BootstrapVariant": "AWS CDK: Default Resources",
    "DenyExternalId": "true",
}


def test_cdk_bootstrap_finds_the_local_bootstrap_stack_as_it_would_make_it(
    deployed_stack, harness_settings, aws_client, tmp_path: Path
):
    # GIVEN the runtime the harness bootstrapped and deployed into, with the parameters
    # `cdk bootstrap` gives a new stack
    [stack] = aws_client("cloudformation").describe_stacks(StackName="CDKToolkit")["Stacks"]
    given = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert given == CDK_BOOTSTRAP_PARAMETERS

    # WHEN the pinned CLI bootstraps it (where there is no app: the environment given)
    bootstrap = commands.run(
        [
            deploy._cli(harness_settings),
            "bootstrap",
            f"aws://000000000000/{harness_settings.region}",
        ],
        what="cdk bootstrap",
        cwd=tmp_path,
        env=deploy.cdk_environment(harness_settings),
        timeout=300,
    )
    # THEN its change set of the same template and parameters changes nothing
    output = bootstrap.stdout + bootstrap.stderr
    assert "bootstrapped (no changes)" in output, output
