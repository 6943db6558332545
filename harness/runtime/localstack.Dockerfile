# LocalStack for docker-compose.yml, built from the pins host mode runs
# (requirements/localstack.lock), with the project's host Lambda executor: Lambdas run as
# processes inside this container (no docker.sock mount, no Lambda image pulls, millisecond
# starts), Java and DynamoDB Local are provisioned at build time, so nothing is downloaded
# at run time. Build context: the repository root.
#
# BASE_IMAGE: any Debian-based image with python3.13 on PATH. The default is the official
# one; machines with no registry pass a base built offline (harness/runtime/images.py).
ARG BASE_IMAGE=python:3.13-slim

# The third-party part: the JDK and the locked virtualenvs, no project code (the harness
# shares this stage's image between the machine's checkouts, keyed by what makes it:
# harness/runtime/images.py).
FROM ${BASE_IMAGE} AS dependencies

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A JDK for DynamoDB Local (17+; javac builds its loopback patch once, below).
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jdk-headless \
    && rm -rf /var/lib/apt/lists/*

# LocalStack in its own virtualenv, from the lock; the Lambda runtime's virtualenv beside it.
# uv (the project's pinned version) installs the ~150 locked packages in seconds, compiled
# to bytecode here so that a fresh container does not compile LocalStack at every start.
COPY requirements/localstack.lock requirements/lambda.lock /opt/requirements/
RUN python3.13 -m venv /opt/uv \
    && /opt/uv/bin/pip install --quiet uv==0.13.8 \
    && python3.13 -m venv /opt/localstack \
    && /opt/uv/bin/uv pip sync --quiet --no-cache --compile-bytecode --python /opt/localstack/bin/python \
        /opt/requirements/localstack.lock \
    && python3.13 -m venv /opt/lambda \
    && /opt/uv/bin/uv pip sync --quiet --no-cache --compile-bytecode --python /opt/lambda/bin/python \
        /opt/requirements/lambda.lock \
    && rm -rf /opt/uv \
    # LocalStack's service catalog index, built once as its own image does.
    && mkdir -p /usr/lib/localstack \
    && /opt/localstack/bin/python -m localstack.aws.spec

# The project's part: DynamoDB Local (bound to loopback, with its class archive), and the host
# Lambda executor.
FROM dependencies
COPY harness/runtime/localstack_image.py harness/runtime/dynamodb_local_build.py /opt/provision/
COPY harness/runtime/dynamodb_loopback_patch /opt/provision/dynamodb_loopback_patch
RUN python3.13 /opt/provision/localstack_image.py /opt/provision/dynamodb_loopback_patch

COPY harness/localstack_host_lambda /opt/provision/localstack_host_lambda
RUN /opt/localstack/bin/python -m pip install --quiet --no-deps /opt/provision/localstack_host_lambda

ENV PATH=/opt/localstack/bin:$PATH \
    GATEWAY_LISTEN=0.0.0.0:4566 \
    GATEWAY_SERVER=hypercorn \
    LAMBDA_RUNTIME_EXECUTOR=host \
    HOST_LAMBDA_PYTHON_3_12=/opt/lambda/bin/python \
    LAMBDA_KEEPALIVE_MS=30000 \
    DISABLE_EVENTS=1 \
    SKIP_SSL_CERT_DOWNLOAD=1 \
    DNS_ADDRESS=0

EXPOSE 4566
CMD ["/opt/localstack/bin/python", "-m", "localstack.runtime.main"]
