// ipfs/node.ts — the IPFS node ww talks to over the Kubo RPC API (/api/v0): raw blocks
// (block/get), a file's bytes as one stream (cat), signed IPNS records (routing/get or dht/get),
// the node's own word on a name (name/resolve), and a guest's bytes added as a file (add).
// Nothing here is trusted: callers verify every byte against its CID and every record against
// its key, and check that the CID add answers names the bytes. Owns the idle timeout
// (--ipfs-timeout) and turns transport failures into one-line SetupErrors naming the node's
// address.
//
// Every command goes through ww's own HTTP client (http.ts), over TCP or a unix socket: block/get
// and cat are on the path of every cold run, where importing kubo-rpc-client cost ~80-150 ms,
// more than fetching a large program takes, and fetch ~5 ms before its first request (and reads
// a large body ~25% slower). name/resolve went through kubo-rpc-client, and add through fetch,
// until they were seen to follow a node's redirect to any host, to read an endless answer for as
// long as it came, and (add) to give up after --ipfs-timeout in all, however steadily the node
// answered, and to refuse a /unix/ node.

import { ipfsSetupError } from "./setting_words.ts";
import { osReason, SetupError, UsageError, WwError } from "../core/errors.ts";
import { foreignText } from "../core/escape.ts";
import {
  BodyTooLargeError,
  ConnectError,
  Exchange,
  HttpStatusError,
  type RequestBody,
  StreamError,
} from "./http.ts";
import { multipartFile } from "./multipart.ts";
import { ipfsApiUrl } from "./multiaddr.ts";
import { type Notices, stderrNotice } from "./progress.ts";

/** How long the node may be silent before ww says, on a terminal, that it is waiting for it. */
const WAIT_NOTICE_MS = 1000;

/**
 * The most a block/get answer may hold. Kubo makes no block over 1 MiB unless told to
 * (--allow-big-block), and such blocks do not cross Bitswap: without a bound, a node that
 * announced gigabytes had ww hold all it sent (3 GB resident, seen) before the hash refused it.
 */
export const MAX_BLOCK_MIB = 4;
export const MAX_BLOCK_BYTES = MAX_BLOCK_MIB * 2 ** 20;

/**
 * The most a routing/get or dht/get answer (one record, base64 in JSON, and events), or a
 * name/resolve answer (one path), may hold.
 */
const MAX_RECORD_ANSWER = 256 * 1024;
const RECORD_HOLDS = "which holds one IPNS record of at most 10 KiB";

/** The most an add answer (a line of JSON a file; one file is added) may hold. */
const MAX_ADD_ANSWER = 256 * 1024;

/** A stream of bytes that the reader reads into buffers of its own. */
export interface ByteSource {
  /**
   * Reads at least one byte into `into`; resolves to the bytes read, a view on `into`'s memory
   * (which may be `into`'s buffer transferred to the view, as a BYOB read does, so the caller
   * uses the view, not `into`), or null at the end. Like a BYOB read, it may write to all of
   * `into`.
   */
  read(into: Uint8Array): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

/** A connection to one node; `close` aborts whatever is still in flight. */
export class IpfsNode {
  readonly url: string;
  /** The address as errors name it: with where it came from, when the caller said. */
  readonly where: string;
  readonly #abort = new AbortController();
  /** What each request in flight waits for, and whether it is an add (named apart in errors). */
  readonly #pending = new Map<string, "fetch" | "add">();
  #lastActivity = Date.now();
  /** True while an idle check is due (see #arm). */
  #armed = false;
  #noticed = false;
  #failure: WwError | undefined;
  /** The `sent` of every request not yet written, for `requestsSent`. */
  readonly #sending = new Set<Promise<void>>();
  /** Requests whose connection is still being made (host name lookup, then connect). */
  #connecting = 0;
  /** True once any connection to the node was made. */
  #reached = false;

  /**
   * `api` is the --ipfs address (see ipfsApiUrl); `timeoutMs` how long the node may stay silent;
   * `context` (the program's path) starts every error message; `origin` (--ipfs, WW_IPFS,
   * $IPFS_PATH/api ...) is named in them.
   */
  constructor(
    readonly api: string,
    readonly timeoutMs: number,
    readonly context: string,
    signal?: AbortSignal,
    readonly origin?: string,
    readonly notices?: Notices,
  ) {
    const parsed = ipfsApiUrl(api);
    if ("error" in parsed) {
      // With no origin it is a library caller's option (the command line checks its own first).
      throw new UsageError(`${origin ?? "ipfsApi"} ${parsed.error}`, {
        commandLine: `${origin ?? "--ipfs"} ${parsed.error}`,
      });
    }
    this.url = parsed.url;
    this.where = origin ? `${api} (from ${origin})` : api;
    if (signal) {
      // The caller's abort ends every request, and its reason (a WwError, when it is one) is
      // what they all fail with.
      const stop = () => {
        const why = signal.reason;
        this.#failure ??= why instanceof WwError ? why : new SetupError(
          `${this.context}: stopped while talking to the IPFS node at ${this.where} (${why})`,
          { cause: why },
        );
        this.#abort.abort(this.#failure);
      };
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true, signal: this.#abort.signal });
    }
  }

  /**
   * The bytes of one block, unverified: `cid` as the node is asked for it, `shown` as messages
   * name it (the user's own text for the CID they wrote).
   */
  async blockGet(cid: string, shown = cid): Promise<Uint8Array> {
    return await this.#track(`block ${shown}`, async () => {
      const exchange = await this.#ready(
        this.#open("block/get", argQuery(cid)),
        `block/get ${shown}`,
      );
      try {
        return await exchange.bytes(MAX_BLOCK_BYTES);
      } catch (e) {
        if (e instanceof BodyTooLargeError && !this.#failure) {
          throw new SetupError(
            `${this.context}: the IPFS node at ${this.where} ${
              e.announced === undefined
                ? `sent more than ${MAX_BLOCK_MIB} MiB`
                : `announced ${e.announced} bytes`
            } for block ${shown}; ww takes blocks of up to ${MAX_BLOCK_MIB} MiB (Kubo makes none over 1 MiB without --allow-big-block)`,
          );
        }
        throw this.#failure ?? new SetupError(
          `${this.context}: the IPFS node at ${this.where} stopped sending block ${shown} (${
            reason(e)
          })`,
        );
      }
    });
  }

  /**
   * The bytes of the UnixFS file `cid` (or /ipfs/ path), unverified, read from the socket
   * straight into the caller's buffers, so a large file makes no garbage. The request goes out
   * now; `close` ends it (closes the connection), read or not. `shown` names it in messages.
   */
  cat(cid: string, shown = cid): ByteSource {
    let received = 0;
    this.#pending.set(shown, "fetch");
    this.#arm();
    const exchange = this.#open("cat", argQuery(cid));
    const ready = this.#ready(exchange, `cat ${shown}`);
    ready.catch(() => {}); // reported by the first read, if any
    return {
      read: async (into) => {
        await ready;
        let n: number | null;
        try {
          n = await exchange.read(into);
        } catch (e) {
          this.#pending.delete(shown);
          throw this.#failure ?? new SetupError(
            `${this.context}: the IPFS node at ${this.where} stopped sending ${shown} after ${received} bytes (${
              reason(e)
            })`,
          );
        }
        if (n === null) {
          this.#pending.delete(shown);
          return null;
        }
        received += n;
        return into.subarray(0, n);
      },
      close: () => {
        this.#pending.delete(shown);
        exchange.close();
        return Promise.resolve();
      },
    };
  }

  /**
   * The signed IPNS record the node holds for the key-based name `name`, unverified: Kubo's
   * `routing/get`, or `dht/get` (js-ipfs). Undefined when the node offers neither command or has
   * no record for the name.
   */
  async ipnsRecord(name: string): Promise<Uint8Array | undefined> {
    return await this.#track(`the IPNS record of /ipns/${name}`, async () => {
      for (const command of ["routing/get", "dht/get"]) {
        const exchange = this.#open(command, argQuery(`/ipns/${name}`));
        let text: string;
        try {
          await exchange.ready;
          text = new TextDecoder().decode(
            await this.#boundedBody(exchange, command, name, RECORD_HOLDS),
          );
        } catch (e) {
          if (this.#failure) throw this.#failure;
          if (e instanceof WwError) throw e;
          if (e instanceof HttpStatusError) {
            // A redirect is no answer about the record: said as such, not taken for "no record".
            if (isRedirect(e)) throw this.#refused(e, `${command} /ipns/${name}`);
            continue; // no such command, or no record
          }
          throw this.#transportError(e);
        }
        // One JSON object a line; the record is the base64 Extra of the VALUE (type 5) event.
        for (const line of text.split("\n")) {
          let event: { Type?: number; Extra?: string };
          try {
            event = JSON.parse(line);
          } catch {
            continue;
          }
          if (event.Type === 5 && typeof event.Extra === "string" && event.Extra !== "") {
            try {
              return Uint8Array.from(atob(event.Extra), (c) => c.charCodeAt(0));
            } catch {
              return new Uint8Array(); // not base64: a malformed record, refused as such
            }
          }
        }
      }
      return undefined;
    });
  }

  /**
   * The /ipfs/ path an IPNS name (or DNSLink domain) points to now, resolved by the node: its word
   * only, believed with --trust-node-ipns alone.
   */
  async resolveName(name: string): Promise<string> {
    return await this.#track(`/ipns/${name}`, async () => {
      const exchange = await this.#ready(
        this.#open("name/resolve", argQuery(name)),
        `name/resolve ${name}`,
      );
      let text: string;
      try {
        text = new TextDecoder().decode(
          await this.#boundedBody(exchange, "name/resolve", name, "whose answer is one path"),
        );
      } catch (e) {
        if (this.#failure) throw this.#failure;
        if (e instanceof WwError) throw e;
        throw new SetupError(
          `${this.context}: the IPFS node at ${this.where} stopped answering name/resolve /ipns/${name} (${
            reason(e)
          })`,
        );
      }
      // Kubo answers {"Path":"/ipfs/…"}; a streamed answer (one object a line) ends with the last.
      let path: string | undefined;
      for (const line of text.split("\n")) {
        try {
          const value = JSON.parse(line)?.Path;
          if (typeof value === "string") path = value;
        } catch { /* not an answer line */ }
      }
      if (!path?.startsWith("/ipfs/")) {
        throw new SetupError(
          `${this.context}: the IPFS node at ${this.where} resolved /ipns/${name} to ${
            path === undefined ? "nothing" : `"${foreignText(path)}"`
          }`,
        );
      }
      return path;
    });
  }

  /**
   * Adds `data` to the node as one file (CIDv1, raw leaves, pinned) and returns its answer, a
   * line of JSON naming the file's CID, unchecked: the caller checks that the CID names `data`.
   * An answer of more than MAX_ADD_ANSWER bytes is refused. --ipfs-timeout is silence here too:
   * a node still reading the upload, or still answering, is waited for.
   */
  async add(data: Uint8Array): Promise<string> {
    return await this.#track(`add of ${data.length} bytes`, async () => {
      const exchange = await this.#ready(
        this.#open("add", "cid-version=1&raw-leaves=true&pin=true", multipartFile(data)),
        "add",
        "add",
      );
      try {
        return new TextDecoder().decode(await exchange.bytes(MAX_ADD_ANSWER));
      } catch (e) {
        if (this.#failure) throw this.#failure;
        throw new SetupError(
          `${this.context}: the IPFS node at ${this.where} ${
            e instanceof BodyTooLargeError
              ? `sent more than ${
                MAX_ADD_ANSWER >> 10
              } KiB for add, whose answer is a line of JSON for the file`
              : `stopped answering add (${reason(e)})`
          }`,
        );
      }
    }, "add");
  }

  /**
   * The whole body of `exchange`, refused past MAX_RECORD_ANSWER bytes: a record is at most 10 KiB
   * (the IPNS specification's limit), and a path far less, so a node that sends more is not
   * sending one; `holds` says what the answer is, for the message.
   */
  async #boundedBody(
    exchange: Exchange,
    command: string,
    name: string,
    holds: string,
  ): Promise<Uint8Array> {
    try {
      return await exchange.bytes(MAX_RECORD_ANSWER);
    } catch (e) {
      if (!(e instanceof BodyTooLargeError)) throw e;
      throw new SetupError(
        `${this.context}: the IPFS node at ${this.where} sent more than ${
          MAX_RECORD_ANSWER >> 10
        } KiB for ${command} /ipns/${name}, ${holds}`,
      );
    }
  }

  /**
   * Resolves once every request made so far is on its way to the node (written to its socket) or
   * has failed; errors are reported where each request is read.
   */
  async requestsSent(): Promise<void> {
    await Promise.all([...this.#sending]);
  }

  /** Aborts every request still in flight. */
  close(): void {
    this.#abort.abort();
  }

  /** Sends `command` with `query` (and `body`) now. */
  #open(command: string, query: string, body?: RequestBody): Exchange {
    const exchange = new Exchange(
      this.url,
      `/api/v0/${command}?${query}`,
      this.#abort.signal,
      // Any bytes are news, sent or received: --ipfs-timeout is silence, not a slow exchange. The
      // one place activity is noted for every command.
      () => this.#touch(),
      body,
    );
    // Counted until connected (or failed), so a timeout can tell a lookup or connection that never
    // finished from a node that was reached and said nothing.
    this.#connecting++;
    let counted = true;
    const done = () => {
      if (counted) this.#connecting--;
      counted = false;
    };
    exchange.connected.then(() => {
      this.#reached = true;
      done();
    });
    exchange.ready.then(done, done);
    this.#sending.add(exchange.sent);
    exchange.sent.then(() => this.#sending.delete(exchange.sent));
    return exchange;
  }

  /**
   * `exchange` (of `request`: the command and its argument) once its response is a success;
   * `kind` says whose request it is (see #refused).
   */
  async #ready(
    exchange: Exchange,
    request: string,
    kind: "fetch" | "add" = "fetch",
  ): Promise<Exchange> {
    try {
      await exchange.ready;
    } catch (e) {
      if (this.#failure) throw this.#failure;
      if (e instanceof HttpStatusError) throw this.#refused(e, request, kind);
      if (this.#abort.signal.aborted) throw e;
      throw this.#transportError(e);
    }
    return exchange;
  }

  /**
   * The error for a non-2xx answer `e` to `request` (the command and its argument), of `kind`: a
   * guest's add is told the node's words only, as it cannot choose the node.
   */
  #refused(e: HttpStatusError, request: string, kind: "fetch" | "add" = "fetch"): SetupError {
    // A 404 or 405 is no node's answer about a CID: most likely a web server at that address (or
    // a node too old for the command). A redirect was only "HTTP 307", naming no fix.
    const notApi = e.status === 404 || e.status === 405;
    return ipfsSetupError((name) =>
      `${this.context}: the IPFS node at ${this.where} refused ${request}: ${e.message}${
        isRedirect(e) && kind === "fetch"
          ? `, a redirect${e.location ? ` to ${e.location}` : ""} (ww follows none: point ${
            name("api")
          } at the node's own RPC API address)`
          : notApi
          ? ` (is ${name("api")} the address of a Kubo RPC API?)`
          : ""
      }`
    );
  }

  async #track<T>(
    what: string,
    f: () => Promise<T>,
    kind: "fetch" | "add" = "fetch",
  ): Promise<T> {
    this.#pending.set(what, kind);
    this.#arm();
    try {
      return await f();
    } catch (e) {
      throw this.#failure ?? e;
    } finally {
      this.#pending.delete(what);
    }
  }

  /**
   * The error for a request that failed below HTTP's statuses: the connection was not made
   * (ConnectError), or it was, and what came back was cut off or is no HTTP answer ww reads (a
   * different service at that address, say).
   */
  #transportError(e: unknown): SetupError {
    const where = [
      ...(this.url.startsWith("http+unix:") ? [] : [this.url]),
      ...(this.origin ? [`from ${this.origin}`] : []),
    ].join(", ");
    // A /unix/ address given by its library caller has nothing more to say where it is.
    const at = where === "" ? this.api : `${this.api} (${where})`;
    if (!(e instanceof ConnectError)) {
      return ipfsSetupError((name) =>
        `${this.context}: the IPFS node at ${at} took the connection, but its answer failed: ${
          reason(e)
        } (is ${name("api")} the address of a Kubo RPC API?)`
      );
    }
    // TLS spoken to a server that answered in plain HTTP: rustls's words for its first bytes.
    const plainHttp = this.url.startsWith("https:") &&
      /InvalidContentType|corrupt message/.test(reason(e));
    return ipfsSetupError((name) =>
      `${this.context}: cannot reach the IPFS node at ${at}: ${reason(e)} (${
        plainHttp
          ? "it answers in plain HTTP, not TLS: give its address with /http, or http://"
          : `start it, or point ${name("api")} at one`
      })`
    );
  }

  /**
   * The error for a connection not made within --ipfs-timeout: the host name's lookup (the
   * system's resolver, which a silent DNS server keeps waiting far longer) or the connect itself.
   */
  #connectTimeout(): SetupError {
    const host = /^https?:\/\/(\[[^\]]*\]|[^/:]+)/.exec(this.url)?.[1];
    const named = host !== undefined && !host.startsWith("[") && !/^[\d.]+$/.test(host);
    const step = named
      ? `looking up the host name ${host} and connecting to it`
      : "connecting to it";
    return ipfsSetupError((name) =>
      `${this.context}: cannot reach the IPFS node at ${this.where}: ${step} took longer than ${
        formatMs(this.timeoutMs)
      } (${name("timeout")}; is the address right${
        named ? " and the DNS server answering" : ""
      }? raise ${name("timeout")} to wait longer)`
    );
  }

  #touch(): void {
    this.#lastActivity = Date.now();
  }

  // One timer for all requests: when it fires it checks whether anything arrived meanwhile and
  // re-arms itself for the rest of the window, so progress costs no timer churn (until the
  // waiting notice is shown, at most one check a WAIT_NOTICE_MS). The timer is an
  // AbortSignal.timeout, not a setTimeout: Deno 2.9's first setTimeout loads its node:timers
  // module, 15-30 ms of main-thread time on the path of every cold run, where this costs ~1 ms.
  #arm(): void {
    if (this.#armed) return;
    this.#touch();
    const check = () => {
      this.#armed = false;
      if (this.#pending.size === 0 || this.#abort.signal.aborted) return;
      const idle = Date.now() - this.#lastActivity;
      if (!this.#noticed && idle >= WAIT_NOTICE_MS && idle < this.timeoutMs) {
        // A CID the node cannot find makes it silent until --ipfs-timeout: say why ww waits.
        this.#noticed = true;
        const [[what, kind]] = this.#pending;
        stderrNotice(
          `ww: ${this.context}: waiting for the IPFS node at ${this.where} to ${
            kind === "add" ? "answer" : "find"
          } ${what} (ww gives up after ${formatMs(this.timeoutMs)} of silence: --ipfs-timeout)`,
          this.notices,
        );
      }
      if (idle < this.timeoutMs) {
        const noticeDue = !this.#noticed && idle < WAIT_NOTICE_MS;
        wake((noticeDue ? WAIT_NOTICE_MS : this.timeoutMs) - idle);
        return;
      }
      const [[what, kind]] = this.#pending;
      this.#failure = this.#connecting > 0 && !this.#reached
        ? this.#connectTimeout()
        : ipfsSetupError((name) =>
          `${this.context}: the IPFS node at ${this.where} ${
            kind === "add"
              ? `was silent for ${formatMs(this.timeoutMs)} during ${what} (is it online?`
              : `sent nothing for ${
                formatMs(this.timeoutMs)
              } while fetching ${what} (is it online and does it have the content?`
          } raise ${name("timeout")} to wait longer)`
        );
      this.#abort.abort(this.#failure);
    };
    const wake = (ms: number) => {
      this.#armed = true;
      // The listener holds the event loop open until the timer fires; closing the node removes
      // it, and then the timer holds nothing.
      AbortSignal.timeout(ms).addEventListener("abort", check, {
        once: true,
        signal: this.#abort.signal,
      });
    };
    wake(Math.min(this.#noticed ? Infinity : WAIT_NOTICE_MS, this.timeoutMs));
  }
}

/** A request's query string for the argument `arg`. */
function argQuery(arg: string): string {
  return `arg=${encodeURIComponent(arg)}`;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A short reason for a transport failure: "connection refused", not Deno's whole chain. */
function reason(e: unknown): string {
  if (e instanceof StreamError) return `it reported: ${e.message.split("\n")[0]}`;
  const text = e instanceof Error ? `${e.message} ${String(e.cause ?? "")}` : String(e);
  if (/connection refused/i.test(text)) return "connection refused";
  if (/connection reset/i.test(text)) return "connection reset";
  if (/dns error|failed to lookup|name or service not known/i.test(text)) {
    return "the host name does not resolve";
  }
  if (/unexpected eof|connection closed|error reading a body|ended early/i.test(text)) {
    return "the connection closed early";
  }
  // A /unix/ address with no socket at its path.
  if (/no such file or directory/i.test(text)) return "no socket is there (no such file)";
  return osReason(e).split("\n")[0];
}

/** Whether `e` is a redirect (3xx), which ww does not follow. */
function isRedirect(e: HttpStatusError): boolean {
  return e.status >= 300 && e.status < 400;
}
