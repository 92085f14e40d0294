"""Fewer, fuller TCP segments for an asyncssh connection, as OpenSSH sends them.

Two habits of asyncssh cost more CPU than the cryptography of a short CLI session:

- every SSH packet goes to the transport on its own, and with TCP_NODELAY (which asyncssh
  sets) each becomes a send() system call and a TCP segment. On loopback that call, with
  the receiving side's TCP work that the kernel does inside it, costs tens of microseconds,
  more than encrypting the packet. OpenSSH collects what it has to say in an output buffer
  and writes it once per turn of its event loop; :func:`tune_connection` does the same.
- once encryption is on, asyncssh puts an empty MSG_IGNORE packet before every packet: the
  old countermeasure against predictable IVs in CBC mode. With the ciphers negotiated here
  (AES-GCM, ChaCha20-Poly1305, AES-CTR) it protects nothing and doubles the packets to
  encrypt, send, receive, decrypt and dispatch; it is left out unless a CBC cipher is in use.

Nothing changes in the SSH protocol: what is sent is the same, minus the padding packets,
grouped into fewer segments.

A third habit is in its logging: every packet's log line (type name, byte count) is formatted
before asyncssh finds that its debug level (below 3 unless set) drops it, and every INFO line
has its arguments converted before the logger's level is looked at. :func:`quiet_logging`
(run on import) makes both look first; what is logged, when it is, does not change.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["quiet_logging", "tune_connection"]

_MSG_IGNORE = 2
_EMPTY_STRING = b"\x00\x00\x00\x00"


class _BatchedTransport:
    """A transport whose writes are joined until the current event-loop callback ends."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        """Send what was written so far."""
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        # A plain transport would have sent these already (it writes at once when it can):
        # asyncssh relies on that for its disconnect message, the lab for a partial output.
        self.flush()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def tune_connection(conn: Any) -> None:
    """Batch the writes of ``conn`` (an asyncssh connection, from its owner's
    ``connection_made``) and leave out the CBC-only MSG_IGNORE packets.

    asyncssh keeps the transport in ``_transport`` and writes to it only through that
    attribute, and sends its padding packets through ``send_packet``; when either is not
    there (another asyncssh version), that part is skipped and the connection works as is."""
    transport = getattr(conn, "_transport", None)
    if transport is not None and not isinstance(transport, _BatchedTransport):
        conn._transport = _BatchedTransport(transport, asyncio.get_running_loop())
    send_packet = getattr(conn, "send_packet", None)
    if send_packet is None or "send_packet" in vars(conn):
        return

    def send_packet_without_cbc_padding(pkttype: int, *args: bytes, **kwargs: Any) -> None:
        if pkttype == _MSG_IGNORE and args == (_EMPTY_STRING,) and not kwargs:
            cipher = conn.get_extra_info("send_cipher") or ""
            if not cipher.endswith("-cbc"):
                return
        send_packet(pkttype, *args, **kwargs)

    conn.send_packet = send_packet_without_cbc_padding


def quiet_logging() -> None:
    """Make asyncssh's loggers check whether a line would be logged before formatting it."""
    from asyncssh.logging import SSHLogger
    from asyncssh.packet import SSHPacketLogger

    log, log_packet = SSHLogger.log, SSHPacketLogger._log_packet
    if getattr(log, "quiet", False):
        return

    def quick_log(self: Any, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):  # what LoggerAdapter.log checks, after the conversions
            log(self, level, msg, *args, **kwargs)

    def quick_log_packet(self: Any, *args: Any) -> None:
        if self.logger._debug_level >= 3:  # what SSHLogger.packet checks, after the formatting
            log_packet(self, *args)

    quick_log.quiet = True  # type: ignore[attr-defined]
    SSHLogger.log = quick_log  # type: ignore[method-assign]
    SSHPacketLogger._log_packet = quick_log_packet  # type: ignore[method-assign,assignment]


quiet_logging()
