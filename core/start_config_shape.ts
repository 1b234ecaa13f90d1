// core/start_config_shape.ts — whether a library caller's run config (startProgram's and
// explainProgram's StartConfig, perhaps from plain JavaScript or a JSON file) has the shape of
// one: every field of its type, and none that no run has. Pure. Its values are checked
// afterwards (run/start.ts checkRunConfig); this keeps a string "false" from turning the network
// on (`jail.net` is truthy), and a misspelt `jail.timeoutms` from dropping the timeout unsaid.

/** The fields of a run's config (core/config.ts RunConfig). */
const RUN_FIELDS = [
  "program",
  "args",
  "fds",
  "own",
  "socketActivation",
  "env",
  "ipfsApi",
  "ipfsApiOrigin",
  "ipfsTimeoutMs",
  "trustNodeIpns",
  "jail",
  "tty",
];

/** The fields of its jail (jail/policy.ts JailPolicy); Command's jail option has them too. */
export const JAIL_FIELDS: readonly string[] = [
  "backend",
  "net",
  "readOnlyBinds",
  "writableBinds",
  "limits",
  "timeoutMs",
  "uid",
  "gid",
  "chdir",
  "allowWeakerJail",
];

type Check = (value: unknown) => boolean;

/**
 * A plain object (a literal, JSON's, or made with a null prototype): a Map passed as `env` was
 * taken for an empty one, and a typed array's millions of indices were looked at one by one.
 */
export const isRecord = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};
/**
 * What an object that is not a plain one is, for a message ("a Map", "a Uint8Array"); undefined
 * for a plain object.
 *
 * @example
 * objectKind(new Map()); // "a Map"
 * objectKind({}); // undefined
 */
export function objectKind(v: object): string | undefined {
  const name = Object.getPrototypeOf(v)?.constructor?.name;
  return name && name !== "Object" ? `a ${name}` : undefined;
}
const string: Check = (v) => typeof v === "string";
const number: Check = (v) => typeof v === "number";
const boolean: Check = (v) => typeof v === "boolean";
/** A list whose every element passes `item`: a hole (`new Array(2)`) is none, as `every` has it. */
const listOf = (item: Check): Check => (v) => {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!(i in v) || !item(v[i])) return false;
  return true;
};
/** An object whose every value passes `value` (looked at without making a list of them). */
const recordOf = (value: Check): Check => (v) => {
  if (!isRecord(v)) return false;
  for (const k in v) if (!value(v[k])) return false;
  return true;
};
/** An object with `fields`, each passing its check, and no other (a bind's `writable: true`). */
const withFields = (fields: Record<string, Check>): Check => {
  const checks = Object.entries(fields);
  return (v) => {
    if (!isRecord(v)) return false;
    for (const k in v) if (!Object.hasOwn(fields, k)) return false;
    return checks.every(([k, check]) => check(v[k]));
  };
};
const optional = (check: Check): Check => (v) => v === undefined || check(v);

const BIND = withFields({ source: string, dest: string });
// FdGrant's own and activated are ww's marks for the grants it opens itself: a caller's
// activated: true was a socket-activation grant without socketActivation's checks.
const FD = withFields({ name: string, source: number });
/** An own grant: a name, one of listen, connect and open, and a mode for open only. */
const OWN: Check = (v) => {
  if (!isRecord(v)) return false;
  const kinds = ["listen", "connect", "open"].filter((k) => v[k] !== undefined);
  if (kinds.length !== 1) return false;
  const fields: Record<string, Check> = { name: string, [kinds[0]]: string };
  if (kinds[0] === "open") fields.mode = optional(string);
  return withFields(fields)(v);
};

/**
 * What each field must be, how a message says it, and, for a list, how it says one element (a
 * message names the first element that is not one).
 */
type FieldType = readonly [Check, string, string?];

const FD_WORDS = "{ name: string, source: number }";
const OWN_WORDS = "{ name, and one of listen, connect or open (open with a mode or not): strings }";
const BIND_WORDS = "{ source: string, dest: string }";

const RUN_TYPES: Record<string, FieldType> = {
  // "" was looked up in PATH, and found a directory there.
  program: [(v) => typeof v === "string" && v !== "", "a non-empty string"],
  args: [optional(listOf(string)), "a list of strings", "a string"],
  fds: [optional(listOf(FD)), `a list of ${FD_WORDS}`, FD_WORDS],
  own: [optional(listOf(OWN)), `a list of ${OWN_WORDS}`, OWN_WORDS],
  socketActivation: [optional(boolean), "true or false"],
  env: [optional(recordOf(string)), "an object of string values"],
  ipfsApi: [optional(string), "a string"],
  ipfsApiOrigin: [optional(string), "a string"],
  ipfsTimeoutMs: [optional(number), "a number"],
  trustNodeIpns: [optional(boolean), "true or false"],
  tty: [optional(boolean), "true or false"],
};

const JAIL_TYPES: Record<string, FieldType> = {
  backend: [optional(string), "a string"],
  net: [optional(boolean), "true or false"],
  allowWeakerJail: [optional(boolean), "true or false"],
  readOnlyBinds: [optional(listOf(BIND)), `a list of ${BIND_WORDS}`, BIND_WORDS],
  writableBinds: [optional(listOf(BIND)), `a list of ${BIND_WORDS}`, BIND_WORDS],
  limits: [optional(recordOf(optional(number))), "an object of numbers"],
  timeoutMs: [optional(number), "a number"],
  uid: [optional(number), "a number"],
  gid: [optional(number), "a number"],
  chdir: [optional(string), "a string"],
};

const RUN_CHECKS = Object.entries(RUN_TYPES);
const JAIL_CHECKS = Object.entries(JAIL_TYPES);

/** `value` as a message shows what was given instead. */
function given(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value !== "object") return `${typeof value} ${String(value)}`;
  // A Map, a Uint8Array of millions, is named by its kind: listing its keys took seconds.
  const kind = objectKind(value);
  if (kind !== undefined) return kind;
  const keys: string[] = [];
  for (const k in value) if (keys.push(JSON.stringify(k.slice(0, 40))) > 8) break;
  if (keys.length === 0) return "an empty object";
  return `an object of ${keys.slice(0, 8).join(", ")}${keys.length > 8 ? ", …" : ""}`;
}

/**
 * Why `input` is not a run's config, in one line naming the field, or undefined.
 *
 * @example
 * startConfigShapeProblem({ program: "/bin/true", jail: { net: "false" } });
 * // 'jail.net: must be true or false (got the string "false")'
 * startConfigShapeProblem({ program: "/bin/true", jail: { timeoutms: 100 } });
 * // "jail.timeoutms: no such option (jail has backend, net, readOnlyBinds, ...)"
 */
export function startConfigShapeProblem(input: unknown): string | undefined {
  if (!isRecord(input)) return `the run's config must be an object (got ${given(input)})`;
  return fieldsProblem("", input, RUN_FIELDS, RUN_CHECKS) ??
    (input.jail === undefined || input.jail === null
      ? undefined
      : isRecord(input.jail)
      ? fieldsProblem("jail.", input.jail, JAIL_FIELDS, JAIL_CHECKS)
      : `jail: must be an object (got ${given(input.jail)})`);
}

function fieldsProblem(
  prefix: string,
  record: Record<string, unknown>,
  fields: readonly string[],
  checks: readonly (readonly [string, FieldType])[],
): string | undefined {
  // Every run passes here: no list is made of what it checks.
  for (const unknown in record) {
    if (fields.includes(unknown)) continue;
    const where = prefix === "" ? "a run's config" : prefix.slice(0, -1);
    return `${prefix}${unknown}: no such option (${where} has ${fields.join(", ")})`;
  }
  for (let i = 0; i < checks.length; i++) {
    const [field, [check, expected, element]] = checks[i];
    const value = record[field];
    if (check(value)) continue;
    // A list: the first element that is none, as a list of it alone.
    if (element !== undefined && Array.isArray(value)) {
      for (let at = 0; at < value.length; at++) {
        if (at in value && check([value[at]])) continue;
        const got = at in value ? given(value[at]) : "nothing: a hole";
        return `${prefix}${field}[${at}]: must be ${element} (got ${got})`;
      }
    }
    return `${prefix}${field}: must be ${expected} (got ${given(value)})`;
  }
  return undefined;
}
