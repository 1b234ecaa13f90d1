// ipfs/http.ts — the HTTP/1.1 client behind IpfsNode's commands: one POST per connection
// (`Connection: close`; its body empty, or sized and sent whole, as add's), over Deno.connect or
// Deno.connectTls, and a response body read straight from the socket into the caller's buffer.
// It exists because it is faster than fetch for the one thing ww needs: fetch's first call loads
// Deno's fetch extension (~5 ms of main-thread CPU before the request leaves), and its body stream
// costs ~25% more time than plain socket reads on a 32 MiB cat.
//
// The framing (status line, headers, Content-Length, chunked with trailers, close-delimited) is
// pure (parseHead, BodyFraming) and tested with arbitrary splits; the Exchange class is the shell
// that feeds it from the socket. Kubo reports an error that happens mid-stream in an
// X-Stream-Error trailer; it becomes an error here. Nothing here knows about IPFS. What the server
// wrote (its error message, a line ww cannot parse) reaches an error's text cut and escaped.

import { foreignText } from "../core/escape.ts";

/** Most bytes of a response's status line and headers, and of a chunked body's trailers. */
export const HEAD_LIMIT = 64 * 1024;
/** Interim responses before the real one, at most (a server sends one 100 Continue, or none). */
const MAX_INTERIM_RESPONSES = 8;
/** Most bytes of a chunk-size line (the size, its extensions and CRLF). */
export const LINE_LIMIT = 4096;
/** Most bytes of an error response's body that are read for its message. */
export const ERROR_BODY_LIMIT = 64 * 1024;
/**
 * Bytes of framing read with (or, when there is no payload to read, instead of) payload: enough
 * for a chunk-size line and the trailers of a small body. Payload bytes they catch are copied to
 * the caller before the socket is read again, so keeping it small keeps copies small.
 */
const FRAMING_READ = 256;

/** The connection could not be made (refused, unresolvable name, unreachable, TLS handshake). */
export class ConnectError extends Error {
  override name = "ConnectError";
}

/**
 * A response with a non-2xx status; the message is the server's own (Kubo's `Message`), and
 * `location` a redirect's Location header, cut and escaped (ww follows no redirect).
 */
export class HttpStatusError extends Error {
  override name = "HttpStatusError";
  constructor(readonly status: number, message: string, readonly location?: string) {
    super(message);
  }
}

/** A body longer than its reader takes: `announced`, its Content-Length, when it had one. */
export class BodyTooLargeError extends Error {
  constructor(readonly max: number, readonly announced?: number) {
    super(
      announced === undefined
        ? `a body of more than ${max} bytes`
        : `a body of ${announced} bytes, more than ${max}`,
    );
    this.name = "BodyTooLargeError";
  }
}

/** The server said, in an X-Stream-Error trailer, that the body it sent is not complete. */
export class StreamError extends Error {
  override name = "StreamError";
}

/** A request's body: its media type and its bytes, sent with a Content-Length. */
export interface RequestBody {
  readonly type: string;
  readonly bytes: Uint8Array;
}

/** A response's status and headers (names in lower case). */
export interface ResponseHead {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
}

/**
 * The index just past the blank line that ends a response head in `bytes`, or -1 when it has not
 * arrived yet.
 */
export function headEnd(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.length; i++) {
    if (
      bytes[i] === 0x0a && bytes[i - 1] === 0x0d && bytes[i - 2] === 0x0a && bytes[i - 3] === 0x0d
    ) {
      return i + 1;
    }
  }
  return -1;
}

/**
 * The status and headers of a response head (the bytes up to and including the blank line).
 * Repeated headers are joined with ", ".
 *
 * @example
 * parseHead(new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"));
 * // { status: 200, headers: Map { "content-length" => "3" } }
 */
export function parseHead(bytes: Uint8Array): ResponseHead {
  const lines = latin1(bytes).split("\r\n");
  const status = /^HTTP\/1\.[01] ([1-9]\d\d)(?: |$)/.exec(lines[0]);
  if (!status) throw new Error(`not an HTTP/1.1 status line: "${foreignText(lines[0], 80)}"`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    addField(headers, line, "header");
  }
  return { status: Number(status[1]), headers };
}

/**
 * How a response body ends, as a state machine fed by the caller: framing bytes go to `feed`,
 * and the next `want()` payload bytes are the caller's to read (straight into its own buffer) and
 * report with `payload`. `eof()` tells it the connection closed. Pure: no I/O.
 */
export class BodyFraming {
  /** Trailer fields of a chunked body (names in lower case), once `done`. */
  readonly trailers = new Map<string, string>();
  #state: "size" | "data" | "data-end" | "trailers" | "done";
  #remaining: number;
  #line = "";
  #trailerBytes = 0;

  /** The framing `head` gives its body (RFC 9112 §6.3, for a response to a POST). */
  static for(head: ResponseHead): BodyFraming {
    const te = head.headers.get("transfer-encoding");
    if (te !== undefined) {
      if (te.split(",").at(-1)!.trim().toLowerCase() !== "chunked") {
        throw new Error(`unsupported Transfer-Encoding: "${foreignText(te, 80)}"`);
      }
      return new BodyFraming("chunked");
    }
    if (head.status === 204 || head.status === 304) return new BodyFraming("length", 0);
    const length = head.headers.get("content-length");
    if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length)) {
        throw new Error(`bad Content-Length: "${foreignText(length, 80)}"`);
      }
      return new BodyFraming("length", Number(length));
    }
    return new BodyFraming("close");
  }

  constructor(readonly kind: "chunked" | "length" | "close", length = 0) {
    this.#state = kind === "chunked" ? "size" : kind === "length" && length === 0 ? "done" : "data";
    this.#remaining = kind === "close" ? Infinity : length;
  }

  /** True once the whole body has gone by. */
  get done(): boolean {
    return this.#state === "done";
  }

  /** How many payload bytes may be read now; 0 when it needs framing bytes or is done. */
  want(): number {
    return this.#state === "data" ? this.#remaining : 0;
  }

  /** `n` (at most `want()`) payload bytes were read. */
  payload(n: number): void {
    if (n > this.want()) throw new Error(`${n} payload bytes, but ${this.want()} were expected`);
    this.#remaining -= n;
    if (this.#remaining > 0) return;
    this.#state = this.kind === "chunked" ? "data-end" : "done";
  }

  /**
   * Consumes framing bytes from the front of `bytes`, up to where payload starts (or the body
   * ends); returns how many it took. A line split across calls is kept until its end arrives.
   */
  feed(bytes: Uint8Array): number {
    let i = 0;
    while (
      i < bytes.length && (this.#state === "size" || this.#state === "data-end" ||
        this.#state === "trailers")
    ) {
      const lf = bytes.indexOf(0x0a, i);
      const end = lf === -1 ? bytes.length : lf + 1;
      this.#line += latin1(bytes.subarray(i, end));
      i = end;
      this.#checkLength();
      if (lf === -1) break;
      const line = this.#line;
      this.#line = "";
      if (!line.endsWith("\r\n")) throw new Error("a chunked body line does not end in CRLF");
      this.#takeLine(line.slice(0, -2));
    }
    return i;
  }

  /** The connection closed; throws when the body was not complete. */
  eof(): void {
    if (this.#state === "done") return;
    if (this.kind === "close") {
      this.#state = "done";
      return;
    }
    throw new Error(
      this.kind === "length"
        ? `the body ended early, ${this.#remaining} bytes short`
        : `the chunked body ended early, ${
          this.#state === "data"
            ? `${this.#remaining} bytes short of a chunk's end`
            : "before its last chunk"
        }`,
    );
  }

  #checkLength(): void {
    if (this.#state === "trailers") {
      if (this.#trailerBytes + this.#line.length > HEAD_LIMIT) {
        throw new Error(`the trailers are longer than ${HEAD_LIMIT} bytes`);
      }
    } else if (this.#line.length > LINE_LIMIT) {
      throw new Error(`a chunk-size line is longer than ${LINE_LIMIT} bytes`);
    }
  }

  #takeLine(line: string): void {
    switch (this.#state) {
      case "size": {
        // A size in hex, then extensions after ";" (ignored).
        const m = /^([0-9A-Fa-f]{1,13})[ \t]*(;.*)?$/.exec(line);
        if (!m) throw new Error(`bad chunk size: "${foreignText(line, 40)}"`);
        this.#remaining = parseInt(m[1], 16);
        this.#state = this.#remaining === 0 ? "trailers" : "data";
        return;
      }
      case "data-end":
        if (line !== "") throw new Error("a chunk is not followed by CRLF");
        this.#state = "size";
        return;
      case "trailers":
        this.#trailerBytes += line.length + 2;
        if (line === "") this.#state = "done";
        else addField(this.trailers, line, "trailer");
        return;
    }
  }
}

/**
 * An HTTP request in flight: the connection, the response head, then its body.
 *
 * @example
 * const exchange = new Exchange("http://127.0.0.1:5001", "/api/v0/cat?arg=bafy...", signal);
 * const buffer = new Uint8Array(2 ** 20);
 * for (let n; (n = await exchange.read(buffer)) !== null;) consume(buffer.subarray(0, n));
 */
export class Exchange {
  /**
   * Resolves once a 2xx response's head has arrived. Rejects with a ConnectError, an
   * HttpStatusError (its body read, up to ERROR_BODY_LIMIT bytes, for the message), or the
   * reason the exchange broke; the connection is closed by then.
   */
  readonly ready: Promise<void>;
  /**
   * Resolves once the connection is made (the host name looked up, the socket connected); never
   * settles when it is not.
   */
  readonly connected: Promise<void>;
  /** Resolves once the request is written to the socket, or the exchange failed before. */
  readonly sent: Promise<void>;
  readonly #signal: AbortSignal;
  readonly #onBytes: () => void;
  #onConnected: () => void = () => {};
  #onSent: () => void = () => {};
  #conn: Deno.Conn | undefined;
  #closed = false;
  #framing: BodyFraming | undefined;
  // Bytes read from the socket that are not taken yet: #scratch[#start, #end).
  #scratch = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  readonly #onAbort = () => this.close();

  /**
   * Sends `POST <target>` to `url` (`http://host:port` or `https://host:port`, IPv6 hosts in
   * brackets, or `http+unix://<percent-encoded socket path>`) with `body`, or an empty one. The
   * connection starts now. Aborting `signal` closes it. `onBytes` hears of every read or write on
   * the socket that moved bytes (the request, the response's head, framing or body), so a caller
   * can tell a slow exchange from silence.
   */
  constructor(
    url: string,
    target: string,
    signal: AbortSignal,
    onBytes: () => void = () => {},
    body?: RequestBody,
  ) {
    this.#signal = signal;
    this.#onBytes = onBytes;
    this.connected = new Promise((resolve) => this.#onConnected = resolve);
    this.sent = new Promise((resolve) => this.#onSent = resolve);
    this.ready = this.#send(url, target, body);
    // A failure is reported to whoever awaits ready, read or bytes; `sent` only settles.
    this.ready.catch(() => {}).finally(this.#onSent);
  }

  /**
   * Reads body bytes straight from the socket into `into` (at least one); resolves to how many,
   * or null at the end (the connection is closed then). It may write to all of `into`, as a BYOB
   * stream read may: the bytes past the count are not the body's. Rejects when the body breaks,
   * ends early or carries an X-Stream-Error trailer.
   */
  async read(into: Uint8Array): Promise<number | null> {
    await this.ready;
    return await this.#read(into);
  }

  async #read(into: Uint8Array): Promise<number | null> {
    const framing = this.#framing!;
    while (true) {
      if (framing.done) {
        this.close();
        const error = framing.trailers.get("x-stream-error");
        if (error) throw new StreamError(foreignText(error));
        return null;
      }
      const want = framing.want();
      if (want > 0) {
        const limit = Math.min(want, into.length);
        let n: number | null;
        if (this.#end > this.#start) {
          n = Math.min(limit, this.#end - this.#start);
          into.set(this.#scratch.subarray(this.#start, this.#start + n));
          this.#start += n;
        } else {
          // When the chunk ends inside `into`, the same read takes up to FRAMING_READ bytes past
          // its end, where the next chunk's size line is: one read per chunk instead of two.
          // Those bytes move to the scratch buffer; the payload stays where it was read.
          const past = framing.kind === "chunked" ? Math.min(FRAMING_READ, into.length - limit) : 0;
          const got = await this.#socketRead(into.subarray(0, limit + past));
          if (got === null) {
            framing.eof();
            continue;
          }
          n = Math.min(got, limit);
          this.#scratch.set(into.subarray(limit, got));
          this.#start = 0;
          this.#end = got - n;
        }
        framing.payload(n);
        return n;
      }
      if (this.#end === this.#start) {
        const n = await this.#socketRead(this.#scratch.subarray(0, FRAMING_READ));
        if (n === null) {
          framing.eof();
          continue;
        }
        this.#start = 0;
        this.#end = n;
      }
      this.#start += framing.feed(this.#scratch.subarray(this.#start, this.#end));
    }
  }

  /**
   * The whole body (sized by Content-Length when there is one), of at most `max` bytes: a longer
   * one, announced or sent, is a BodyTooLargeError, and ww holds no more than `max` + 1 bytes of
   * it. The connection is closed.
   */
  async bytes(max: number): Promise<Uint8Array> {
    await this.ready;
    const framing = this.#framing!;
    try {
      if (framing.kind === "length" && framing.want() > max) {
        throw new BodyTooLargeError(max, framing.want());
      }
      let out = new Uint8Array(
        framing.kind === "length" ? framing.want() : Math.min(64 * 1024, max + 1),
      );
      let length = 0;
      while (true) {
        if (length === out.length) {
          if (length > max) throw new BodyTooLargeError(max);
          const grown = new Uint8Array(Math.min(out.length * 2, max + 1));
          grown.set(out);
          out = grown;
        }
        const n = await this.read(out.subarray(length));
        if (n === null) return out.subarray(0, length);
        length += n;
      }
    } finally {
      this.close();
    }
  }

  /** Closes the connection, wherever the exchange is; a pending read then rejects. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal.removeEventListener("abort", this.#onAbort);
    try {
      this.#conn?.close();
    } catch { /* closed by the peer's reset already */ }
  }

  async #send(url: string, target: string, body: RequestBody | undefined): Promise<void> {
    const unix = url.startsWith("http+unix://")
      ? decodeURIComponent(url.slice("http+unix://".length))
      : undefined;
    const parsed = unix !== undefined
      ? ["", "http", "localhost", "80"]
      : /^(https?):\/\/(\[[0-9A-Fa-f:.]+\]|[^/:[\]]+):(\d+)$/.exec(url);
    if (!parsed) throw new Error(`not an http(s)://host:port URL: ${url}`);
    const [, scheme, host, port] = parsed;
    const hostname = host.startsWith("[") ? host.slice(1, -1) : host;
    this.#signal.throwIfAborted();
    this.#signal.addEventListener("abort", this.#onAbort, { once: true });
    try {
      // connectTls takes no signal: an abort leaves it running, and closes what it makes.
      const connecting = unix !== undefined
        ? this.#abortable(Deno.connect({ transport: "unix", path: unix }))
        : scheme === "https"
        ? this.#abortable(Deno.connectTls({ hostname, port: Number(port) }).then(handshaken))
        : Deno.connect({ hostname, port: Number(port), signal: this.#signal });
      try {
        this.#conn = await connecting;
      } catch (e) {
        this.#signal.throwIfAborted();
        throw new ConnectError(e instanceof Error ? e.message : String(e), { cause: e });
      }
      if (this.#closed) {
        this.#conn.close();
        throw this.#closedError();
      }
      this.#onConnected();
      const request = `POST ${target} HTTP/1.1\r\nHost: ${host}:${port}\r\n` +
        (body ? `Content-Type: ${body.type}\r\n` : "") +
        `Content-Length: ${body?.bytes.length ?? 0}\r\nConnection: close\r\n\r\n`;
      for (const bytes of [new TextEncoder().encode(request), body?.bytes ?? new Uint8Array()]) {
        for (let sent = 0; sent < bytes.length;) {
          sent += await this.#guard(this.#conn.write(bytes.subarray(sent)));
          this.#onBytes();
        }
      }
      this.#onSent();
      const head = await this.#readHead();
      this.#framing = BodyFraming.for(head);
      if (head.status >= 200 && head.status < 300) return;
      const location = head.headers.get("location");
      throw new HttpStatusError(
        head.status,
        await this.#errorMessage(head.status),
        location === undefined ? undefined : foreignText(location, 200),
      );
    } catch (e) {
      this.close();
      throw e;
    }
  }

  async #readHead(): Promise<ResponseHead> {
    // Interim (1xx) responses, each of which is within HEAD_LIMIT: a node that sent them without
    // end held a run past --ipfs-timeout, each one news.
    let interim = 0;
    while (true) {
      const end = headEnd(this.#scratch.subarray(0, this.#end));
      if (end !== -1) {
        const head = parseHead(this.#scratch.subarray(0, end));
        this.#start = end;
        if (head.status >= 200) return head;
        if (++interim > MAX_INTERIM_RESPONSES) {
          throw new Error(`more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses`);
        }
        // An interim (1xx) response: the real one follows.
        this.#scratch.copyWithin(0, end, this.#end);
        this.#end -= end;
        continue;
      }
      if (this.#end === this.#scratch.length) {
        if (this.#scratch.length >= HEAD_LIMIT) {
          throw new Error(`the response head is longer than ${HEAD_LIMIT} bytes`);
        }
        const grown = new Uint8Array(this.#scratch.length * 2);
        grown.set(this.#scratch);
        this.#scratch = grown;
      }
      const n = await this.#socketRead(this.#scratch.subarray(this.#end));
      if (n === null) {
        throw new Error(
          this.#end === 0
            ? "the connection closed before a response"
            : "the response head ended early",
        );
      }
      this.#end += n;
    }
  }

  /** The message of an error response: Kubo's JSON `Message`, or the body's first line. */
  async #errorMessage(status: number): Promise<string> {
    const body = new Uint8Array(ERROR_BODY_LIMIT);
    let length = 0;
    try {
      while (length < body.length) {
        const n = await this.#read(body.subarray(length));
        if (n === null) break;
        length += n;
      }
    } catch { /* the message is whatever arrived */ }
    const text = new TextDecoder().decode(body.subarray(0, length));
    let message = text.trim().split("\n")[0].trim();
    try {
      const json = JSON.parse(text);
      if (typeof json?.Message === "string" && json.Message) message = json.Message;
    } catch { /* not JSON: keep the first line */ }
    return message ? foreignText(message) : `HTTP ${status}`;
  }

  async #socketRead(into: Uint8Array): Promise<number | null> {
    if (this.#closed) throw this.#closedError();
    const n = await this.#guard(this.#conn!.read(into));
    if (n) this.#onBytes();
    return n;
  }

  /** `op`, with an abort's reason in place of the error the closed socket gives. */
  async #guard<T>(op: Promise<T>): Promise<T> {
    try {
      return await op;
    } catch (e) {
      this.#signal.throwIfAborted();
      if (this.#closed) throw this.#closedError();
      throw e;
    }
  }

  /** A connection being made, or the abort's reason as soon as the signal is aborted. */
  #abortable<T extends Deno.Conn>(op: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        reject(this.#signal.reason);
        op.then((conn) => conn.close(), () => {});
      };
      this.#signal.addEventListener("abort", onAbort, { once: true });
      op.then(resolve, reject).finally(() => this.#signal.removeEventListener("abort", onAbort));
    });
  }

  #closedError(): Error {
    return new Error("the request was closed");
  }
}

function addField(into: Map<string, string>, line: string, what: string): void {
  const colon = line.indexOf(":");
  if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(line.slice(0, colon))) {
    throw new Error(`bad ${what} line: "${foreignText(line, 80)}"`);
  }
  const name = line.slice(0, colon).toLowerCase();
  const value = line.slice(colon + 1).trim();
  const before = into.get(name);
  into.set(name, before === undefined ? value : `${before}, ${value}`);
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/**
 * `conn` once its TLS handshake is done, or closed and the failure thrown. Deno makes the
 * handshake at the first write unless asked, and a bad certificate then read as an answer ww could
 * not read rather than as a connection not made.
 */
async function handshaken(conn: Deno.TlsConn): Promise<Deno.TlsConn> {
  try {
    await conn.handshake();
    return conn;
  } catch (e) {
    conn.close();
    throw e;
  }
}
