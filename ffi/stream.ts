// ffi/stream.ts — an async byte stream over a raw socket descriptor (ww's end of the host socket).
//
// Deno cannot wrap a raw fd in a Deno.Conn, so waiting is done by poll(2) on a worker thread and
// the transfer itself by non-blocking recv/send on the main thread, where errno can be read.

import { EAGAIN, EINTR } from "./errno.ts";
import { closeFd } from "./fd.ts";
import { lastErrno, libc, SyscallError } from "./libc.ts";

const POLLIN = 0x1;
const POLLOUT = 0x4;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const SHUT_RDWR = 2;

/** The subset of Deno.Conn that the RPC layer needs. */
export interface ByteStream {
  /** Reads into `p`; resolves to the byte count, or null at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes all of `p`. */
  write(p: Uint8Array): Promise<number>;
  /** Ends the stream; pending and later reads resolve to null. */
  close(): void;
}

/** A ByteStream that owns `fd` and closes it on close(). */
export class FdStream implements ByteStream {
  #fd: number;
  #closed = false;
  #polling = 0;

  constructor(fd: number) {
    this.#fd = fd;
  }

  get fd(): number {
    return this.#fd;
  }

  /** Resolves once the socket is readable (or closed), without reading anything. */
  async readable(): Promise<void> {
    await this.#poll(POLLIN);
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (!this.#closed) {
      const n = Number(libc().recv(this.#fd, p, BigInt(p.length), MSG_DONTWAIT));
      if (n >= 0) return n === 0 && p.length > 0 ? null : n;
      const errno = lastErrno();
      if (errno !== EAGAIN && errno !== EINTR) {
        if (this.#closed) return null;
        throw new SyscallError("recv", errno, `host socket fd ${this.#fd}`);
      }
      await this.#poll(POLLIN);
    }
    return null;
  }

  async write(p: Uint8Array): Promise<number> {
    let off = 0;
    while (off < p.length) {
      if (this.#closed) throw new SyscallError("send", 9, "host socket closed");
      const chunk = p.subarray(off);
      const n = Number(
        libc().send(this.#fd, chunk, BigInt(chunk.length), MSG_DONTWAIT | MSG_NOSIGNAL),
      );
      if (n >= 0) {
        off += n;
        continue;
      }
      const errno = lastErrno();
      if (errno !== EAGAIN && errno !== EINTR) {
        throw new SyscallError("send", errno, `host socket fd ${this.#fd}`);
      }
      await this.#poll(POLLOUT);
    }
    return p.length;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // shutdown wakes a poll blocked on a worker thread; the fd itself is closed only once no poll
    // holds it, so its number cannot be reused under a waiting poll.
    libc().shutdown(this.#fd, SHUT_RDWR);
    if (this.#polling === 0) closeFd(this.#fd);
  }

  async #poll(events: number): Promise<void> {
    if (this.#closed) return;
    const pfd = new Int32Array([this.#fd, events]);
    this.#polling++;
    try {
      await libc().poll(pfd, 1n, -1);
    } finally {
      this.#polling--;
      if (this.#closed && this.#polling === 0) closeFd(this.#fd);
    }
  }
}
