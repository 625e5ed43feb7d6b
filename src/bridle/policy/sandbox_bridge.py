"""Inside the Linux sandbox: a loopback port that leads to the host's proxy.

Run by bubblewrap as `python -I -S sandbox_bridge.py SOCKET PORT COMMAND...`
inside the sandbox's empty network namespace. It listens on 127.0.0.1:PORT,
joins every connection to the host proxy's unix socket (the only way out), runs
COMMAND in its place (exec, so its exit status is the sandbox's) with
HTTP(S)_PROXY already pointing at the port, while a forked child relays; the
pid namespace ends the relay when the command ends. It imports nothing from bridle (it runs with `-I -S`, isolated from the
user's site packages) and decides nothing: the host proxy filters domains.
"""

from __future__ import annotations

import os
import socket
import sys
import threading


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _serve(listener: socket.socket, path: str) -> None:
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(path)
        except OSError:
            client.close()
            upstream.close()
            continue
        threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()


def main(argv: list[str]) -> int:
    path, port, command = argv[0], int(argv[1]), argv[2:]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)  # before the command starts, so its first request finds us
    if os.fork() == 0:
        # The bridge lives on in a child; the pid namespace ends it with the command.
        os.setsid()
        _serve(listener, path)
        os._exit(0)
    listener.close()
    os.execvp(command[0], command)  # the command's exit status is ours
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
