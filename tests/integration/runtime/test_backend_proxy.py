"""LocalStack forwards to DynamoDB Local through the plug-in's BackendProxy (backend_proxy.py):
the backend gets the request rolo's proxy sent, and LocalStack gets the response rolo's proxy
gave, for the requests the DynamoDB provider forwards. Both proxies run in LocalStack's own
virtualenv (rolo, werkzeug and the installed plug-in), against one recording backend.
The one difference: ``requests`` (under rolo's proxy) adds ``Accept: */*`` to a request that
has no Accept header (botocore sends none); the backend proxy sends the request's own."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from harness.runtime.installer import Installer
from harness.settings import Settings

# Run by LocalStack's Python: each request through both proxies; what the backend received
# and what each proxy returned, as JSON.
COMPARE = r"""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from rolo.proxy import Proxy
from werkzeug.test import EnvironBuilder
from localstack_host_lambda.backend_proxy import BackendProxy

received = []

class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        received.append({"target": self.path, "headers": sorted(
            (k.lower(), v) for k, v in self.headers.items() if k.lower() != "connection"),
            "body": body.decode()})
        status, payload = (400, b'{"__type":"ConditionalCheckFailedException"}') \
            if b"refuse" in body else (200, b'{"Item":{"PK":{"S":"caf\xc3\xa9"}}}')
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("x-amzn-RequestId", "req-1")
        self.send_header("x-amz-crc32", "123")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}"

def request(body, query, forwarded_for):
    headers = {"Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Target": "DynamoDB_20120810.GetItem", "Host": "localhost:4566",
               "Authorization": "AWS4-HMAC-SHA256 Credential=test/...",
               "User-Agent": "Boto3/1.40 md/Botocore#1.40 ua/2.1 os/linux"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return EnvironBuilder(method="POST", path="/", query_string=query, headers=headers,
        data=body.encode(), environ_base={"REMOTE_ADDR": "10.0.0.7"}).get_request()

def answer(response):
    return {"status": response.status_code, "body": response.get_data().decode(),
            "headers": sorted((k.lower(), v) for k, v in response.headers.items()
                              if k.lower() not in ("date", "server"))}

results = []
rolo, ours = Proxy(url), BackendProxy(url)
for body, query, forwarded_for in json.loads(sys.argv[1]):
    pair = []
    for proxy in (rolo, ours):
        before = len(received)
        response = proxy.forward(request(body, query, forwarded_for), forward_path="/")
        pair.append({"sent": received[before:], "answer": answer(response)})
    results.append(pair)
print(json.dumps(results))
"""

CASES = [
    ['{"TableName": "t", "Key": {"PK": {"S": "s"}}}', "", None],
    ['{"TableName": "t", "note": "refuse \\"quoted\\" caf\u00e9"}', "", "192.0.2.1"],
    ['{"TableName": "t"}', "a=1&b=two", None],
]


def without_requests_accept(sent: dict[str, Any]) -> dict[str, Any]:
    headers = sent["headers"]
    assert ["accept", "*/*"] in headers
    return {**sent, "headers": [h for h in headers if h != ["accept", "*/*"]]}


def test_dynamodb_requests_and_answers_are_those_of_rolos_proxy(
    localstack: str, harness_settings: Settings
) -> None:
    python = Installer(harness_settings).localstack_python
    run = subprocess.run(
        [str(python), "-c", COMPARE, json.dumps(CASES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    assert len(results) == len(CASES)
    for (rolo, ours), (body, query, forwarded_for) in zip(results, CASES, strict=True):
        assert len(ours["sent"]) == 1
        assert ours["sent"] == [without_requests_accept(sent) for sent in rolo["sent"]]
        assert ours["answer"] == rolo["answer"]
        sent = ours["sent"][0]
        assert sent["body"] == body
        assert sent["target"] == "/" + (f"?{query}" if query else "")
        headers = dict(sent["headers"])
        assert headers["host"] == "localhost:4566"
        assert headers["x-forwarded-for"] == ", ".join(filter(None, [forwarded_for, "10.0.0.7"]))
    assert results[1][1]["answer"]["status"] == 400
