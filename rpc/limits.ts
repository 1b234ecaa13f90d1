// rpc/limits.ts — the sizes ww's host takes from a guest on fd 3, which the guest library
// (rpc/guest.ts) keeps to as well: a call it could not take is refused in the guest, naming the
// limit, instead of ending the connection. Constants only.

/**
 * The most calls a guest may have outstanding (answered and finished is no longer outstanding):
 * one more ends the connection (rpc/vat.ts DEFAULT_LIMITS).
 */
export const MAX_CALLS_OUTSTANDING = 1024;

/** The largest message the host reads (rpc/vat.ts DEFAULT_LIMITS): a larger one ends the connection. */
export const MAX_MESSAGE_BYTES = 8 << 20;

/**
 * The longest console line ww prints, in characters (UTF-16 units): escaped, at most ten times
 * that, which fits the 1 MiB stderr queue (run/stderr.ts). A longer line is cut (clipText).
 */
export const MAX_CONSOLE_LINE = 65536;
