"""Start-up patches for LocalStack's host process (loaded through its on_infra_start hook).

LocalStack's Step Functions interpreter parses every JSONPath it evaluates from scratch, and
jsonpath_ng's extended parser rebuilds its ply LALR tables on each parse: under load that was
~40% of LocalStack's CPU (py-spy, 50 concurrent sessions). Parsed paths are immutable, so
caching them by text changes no behaviour.
"""

from __future__ import annotations

from functools import lru_cache

from localstack.runtime import hooks


@hooks.on_infra_start()
def cache_jsonpath_parsing() -> None:
    from localstack.services.stepfunctions.asl.component.common.path import result_path
    from localstack.services.stepfunctions.asl.utils import json_path

    json_path.parse = lru_cache(maxsize=4096)(json_path.parse)
    result_path.parse = lru_cache(maxsize=4096)(result_path.parse)
