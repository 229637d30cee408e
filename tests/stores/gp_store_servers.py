"""Private servers for the store tests, on loopback, that tests may stop and start again: Redis
(``gp_redis_servers``: one ``redis-server``, or a three-master Redis Cluster whose nodes can be
stopped one at a time) and PostgreSQL (``gp_postgres_server``), on free ports
(``gp_loopback``). Nothing here touches the shared servers on 6379 and 5432.

The one name the tests import them all from."""

from __future__ import annotations

from gp_loopback import free_port, port_free, wait_port
from gp_postgres_server import PostgresServer, postgres_bindir, postgres_os_user
from gp_redis_servers import (
    REDIS_CLI,
    REDIS_SERVER,
    RedisCluster,
    RedisServer,
    owned_slots,
    running_redis,
)

__all__ = [
    "REDIS_CLI",
    "REDIS_SERVER",
    "PostgresServer",
    "RedisCluster",
    "RedisServer",
    "free_port",
    "owned_slots",
    "port_free",
    "postgres_bindir",
    "postgres_os_user",
    "running_redis",
    "wait_port",
]
