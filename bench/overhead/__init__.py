"""The gateway-overhead benchmark behind ``bench/gateway_overhead.py``.

- ``scenario``: what one stream is, and the targets;
- ``procs``: starting, watching and stopping the processes, and their CPU time;
- ``gateways``, ``litellm_proxy``: mamori and LiteLLM, in front of the same fake engines;
- ``client``: the load client (raw asyncio HTTP/1.1, SSE parsed by hand);
- ``verify``: one stream through each target, checked field by field, before measuring;
- ``load``: one paced or flat-out run at a concurrency, and what it measured;
- ``report``: statistics, the tables and the verdicts;
- ``runs``: the plan and the order of the runs;
- ``cli``: the command line; starts and stops everything.
"""
