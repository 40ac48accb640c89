"""Serve genlab from N replicas of `streamlit run app.py` behind nginx, with sticky sessions (docs/deploy.md).

    .venv/bin/python scripts/replicas.py --replicas 3 --port 8500 --host 0.0.0.0
    (students open http://THIS-MACHINE:8500; Ctrl-C stops nginx and every replica)

A Streamlit session lives in one process (its websocket, its uploads, its widgets' state), so every request of
one browser must reach the same replica. nginx sends a browser's first request to the next replica in turn and
answers with a cookie naming that replica (genlab_replica=127.0.0.1:PORT); later requests with that cookie go
there. Only the replicas' own addresses are accepted from the cookie; anything else is sent round the ring.
Every replica reads the same `checkpoints/` and the same user-checkpoint folder (GENLAB_USER_CHECKPOINTS), so a
model trained on one is listed on all. Running jobs and teacher seats stay in the replica that has them.
Needs nginx (Debian: apt-get install nginx-light); nginx runs as this user with its files in a temporary folder.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_config(listen: str, ports: list[int], folder: Path) -> str:
    """An nginx.conf for the replicas on 127.0.0.1:ports, sticky by the genlab_replica cookie."""
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in ports)
    routes = "\n".join(f'        "127.0.0.1:{p}" 127.0.0.1:{p};' for p in ports)
    temp = " ".join(f"{name}_temp_path {folder / name};" for name in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""worker_processes 1;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    {temp}
    client_max_body_size 200m;  # Streamlit's own upload limit
    upstream genlab_replicas {{
{servers}
    }}
    map $cookie_genlab_replica $genlab_replica {{  # the cookie's replica if it is one of ours, else the next in turn
        default genlab_replicas;
{routes}
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://$genlab_replica;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;  # Streamlit's session is a websocket (/_stcore/stream)
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_read_timeout 1d;
            add_header Set-Cookie "genlab_replica=$upstream_addr; Path=/; HttpOnly; SameSite=Lax" always;
            add_header X-Genlab-Replica $upstream_addr always;
        }}
    }}
}}
"""


def free_ports(n: int) -> list[int]:
    """n ports that no one listens on now (held open together, so they differ)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_healthy(url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the process for {url} stopped (exit status {process.returncode}); see its output above")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8500, help="where students connect (nginx)")
    parser.add_argument("--host", default="127.0.0.1", help="nginx's address: 0.0.0.0 to serve the network")
    parser.add_argument("--first-replica-port", type=int, default=8601,
                        help="replicas use this port and the next ones (0: any free ports)")
    args = parser.parse_args()
    if not Path(NGINX).exists():
        raise SystemExit("nginx is not installed: apt-get install nginx-light")
    ports = free_ports(args.replicas) if args.first_replica_port == 0 else \
        [args.first_replica_port + i for i in range(args.replicas)]
    folder = Path(tempfile.mkdtemp(prefix="genlab-nginx-"))
    processes = []
    try:
        for i, port in enumerate(ports, 1):
            env = {**os.environ, "GENLAB_REPLICA": f"replica {i} of {args.replicas} (port {port})"}
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                 "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                 "--server.fileWatcherType", "none"], cwd=ROOT, env=env))
        for port, process in zip(ports, processes):
            wait_healthy(f"http://127.0.0.1:{port}", process=process)
        config = folder / "nginx.conf"
        config.write_text(nginx_config(f"{args.host}:{args.port}", ports, folder))
        processes.append(subprocess.Popen([NGINX, "-c", str(config), "-p", str(folder), "-g", "daemon off;"]))
        wait_healthy(f"http://127.0.0.1:{args.port}", process=processes[-1], seconds=30)
        print(f"genlab: {args.replicas} replicas behind http://{args.host}:{args.port} (Ctrl-C stops them)", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(p.poll() is None for p in processes):
            time.sleep(1)
        raise SystemExit("a replica or nginx stopped; stopping the rest")
    except KeyboardInterrupt:
        pass
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
