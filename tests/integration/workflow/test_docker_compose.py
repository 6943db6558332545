"""Docker mode as the user sees it (make test-docker): the compose services on the settings'
ports, the invoker reaching the stand-in by its compose name, the agent container writing the
journal through LocalStack, and Lambdas running inside the LocalStack container (no
docker.sock). The ``docker_compose`` fixture is testcontainers' ``DockerCompose``; in host mode
these tests are skipped."""

from __future__ import annotations

from harness.assertions import assert_completed
from harness.runtime.docker import STANDIN_URL_IN_COMPOSE


def test_services_are_published_on_the_settings_ports(docker_compose, harness_settings):
    expected = {
        "localstack": (4566, harness_settings.gateway_port),
        "agent": (8080, harness_settings.agent_port),
        "agentcore-standin": (8090, harness_settings.standin_port),
    }
    for service, (inside, published) in expected.items():
        host, port = docker_compose.get_service_host_and_port(service, inside)
        assert (host, int(port)) == ("127.0.0.1", published), service


def test_a_session_crosses_the_compose_network(
    docker_compose, trigger, session_reader, deployed_stack
):
    # GIVEN the stack deployed with the stand-in's compose name as the AgentCore endpoint
    assert STANDIN_URL_IN_COMPOSE == "http://agentcore-standin:8090"

    # WHEN a session runs
    session_id = trigger("Cross the compose network")
    assert_completed(session_reader, session_id)

    # THEN the invoker (a process in the LocalStack container) reached the stand-in by name,
    # the stand-in forwarded to the agent container, which wrote BUSY and COMPLETED itself
    standin_out, _ = docker_compose.get_logs("agentcore-standin")
    assert f"session_id=<{session_id}> | forwarded to the agent" in standin_out
    localstack_out, _ = docker_compose.get_logs("localstack")
    assert "/_localstack_lambda/" in localstack_out  # the host executor's endpoint
    probe = ["sh", "-c", "test -e /var/run/docker.sock && echo present || echo absent"]
    out, _, _ = docker_compose.exec_in_container(probe, "localstack")
    assert out.strip() == "absent", "LocalStack runs Lambdas without a Docker socket"
