"""Inside the Linux sandbox: a loopback port that leads to the host's proxy.

Run by bubblewrap as `python -I -S sandbox_bridge.py SOCKET PORT FILTER COMMAND...`
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


def _filter(path: str) -> None:
    """Install the seccomp program in `path` on this process (and what it execs)."""
    import ctypes

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    with open(path, "rb") as f:
        code = f.read()
    buf = ctypes.create_string_buffer(code, len(code))
    prog = Program(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    ul = ctypes.c_ulong
    # PR_SET_NO_NEW_PRIVS, then PR_SET_SECCOMP with SECCOMP_MODE_FILTER.
    if libc.prctl(38, ul(1), ul(0), ul(0), ul(0)) or libc.prctl(
        22, ul(2), ctypes.byref(prog), ul(0), ul(0)
    ):
        raise OSError(ctypes.get_errno(), "bridle sandbox: cannot install the socket filter")


def main(argv: list[str]) -> int:
    path, port, seccomp, command = argv[0], int(argv[1]), argv[2], argv[3:]
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
    if seccomp != "-":
        _filter(seccomp)
    os.execvp(command[0], command)  # the command's exit status is ours
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
