"""Small checks the Slurm batch script runs while it brings Ray up (see suite/run/cluster/slurm.py).

    python -m suite.run.cluster.ray_probe head          -> "IP GCS_PORT DASHBOARD_PORT CLIENT_PORT AGENT_PORT"
    python -m suite.run.cluster.ray_probe nodes ADDR N  -> exit 0 once the cluster at ADDR has N alive nodes

`head` runs on the first node of the allocation. The IP is the one Ray itself
would advertise (the address of the interface that routes outwards), not
`hostname --ip-address`, which is 127.0.1.1 on a stock Debian /etc/hosts and
unreachable from the other nodes. The ports are free on this node now, so a
job does not collide with another Ray on a shared node (Ray's fixed defaults
6379/8265/10001/52365 would).

`nodes` answers one poll; the script loops, so that between polls it can also
notice a `ray start` step that died and fail the job at once. It exits 3 when
nothing listens at ADDR yet (the head is still starting), 1 when fewer than N
nodes are alive, 0 when N are.
"""

from __future__ import annotations

import logging
import socket
import sys

USAGE = "usage: python -m suite.run.cluster.ray_probe head | nodes HOST:PORT N"


def free_ports(n: int) -> list[int]:
    """n distinct TCP ports nothing listens on now (bound together, so they differ)."""
    sockets = []
    try:
        for _ in range(n):
            sock = socket.socket()
            sock.bind(("", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def head_line() -> str:
    import ray.util

    return " ".join([ray.util.get_node_ip_address(), *map(str, free_ports(4))])


def listening(address: str, timeout: float = 2.0) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def alive_nodes(address: str) -> int:
    """Alive nodes of the cluster at address (connects as a short-lived driver)."""
    import ray

    ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    try:
        return sum(bool(node["Alive"]) for node in ray.nodes())
    finally:
        ray.shutdown()


def main(argv: list[str]) -> int:
    if argv == ["head"]:
        print(head_line())
        return 0
    if len(argv) == 3 and argv[0] == "nodes" and argv[2].isdigit() and ":" in argv[1]:
        address, wanted = argv[1], int(argv[2])
        if not listening(address):
            return 3
        alive = alive_nodes(address)
        print(f"{alive}/{wanted} Ray node(s) up", file=sys.stderr)
        return 0 if alive >= wanted else 1
    print(f"{USAGE} (got: {' '.join(argv) or 'nothing'})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
