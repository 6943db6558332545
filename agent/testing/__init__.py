"""The agent's test doubles: the scripted model and fault injection.

They make the local runtime and the tests deterministic (no LLM, failures on request), and
they are not the product: the agent image's ``production`` target (what AWS runs) leaves this
package out, and the agent loads it lazily, only when ``AGENT_MODEL=scripted`` or
``AGENT_ALLOW_FAULTS=1`` asks for it (agent/doubles.py).
"""
