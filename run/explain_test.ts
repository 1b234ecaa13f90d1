// --explain's text for a native plan and for a run with no jail, from plain plan values.
import assert from "node:assert/strict";
import { FS } from "../jail/landlock.ts";
import type { NativePlan, NativePlanResult } from "../jail/native.ts";
import { describeDirectExec, describeNativeCommand, describeNativePlan } from "./explain.ts";

const PLAN: NativePlan = {
  path: "/ipfs/bafy/bin/app",
  argv: ["app"],
  env: [],
  parentPid: 4321,
  statusFd: 7,
  closeOnExecFrom: 5,
  limits: [],
  landlock: {
    abi: 5,
    ruleset: { handledFs: 0xffff, handledNet: 3, scoped: 0 },
    attrSize: 16,
    rules: [
      { path: "/usr", access: FS.EXECUTE | FS.READ_FILE | FS.READ_DIR },
      { path: "/tmp/ww-1", access: FS.READ_FILE | FS.WRITE_FILE },
    ],
  },
};

function result(plan: Partial<NativePlan> = {}): NativePlanResult {
  return {
    plan: { ...PLAN, ...plan },
    enforced: [{ name: "landlock-tcp", what: "TCP" }],
    missing: [{ name: "landlock-scope", what: "signals and abstract sockets" }],
  };
}

Deno.test("--explain says a held program is executed from its descriptor", () => {
  assert.ok(
    describeNativePlan(result({ held: { fd: 5, keepOpen: true } })).includes(
      "  program: executed from fd 5 (execveat AT_EMPTY_PATH), left open for its interpreter as /dev/fd/5",
    ),
  );
  assert.ok(
    describeNativePlan(result({ held: { fd: 5, keepOpen: false } })).includes(
      "  program: executed from fd 5 (execveat AT_EMPTY_PATH), closed on exec",
    ),
  );
  assert.ok(!describeNativePlan(result()).some((l) => l.startsWith("  program:")));
});

Deno.test("--explain names every rule and every protection, enforced or not", () => {
  const lines = describeNativePlan(result());
  assert.ok(lines.includes("    /usr read,list,execute"), lines.join("\n"));
  assert.ok(lines.some((l) => l.includes("/tmp/ww-1 ") && l.includes("write")));
  assert.ok(lines.some((l) => l.startsWith("  enforced: landlock-tcp")));
  assert.ok(
    lines.some((l) => l.startsWith("  NOT enforced (this kernel lacks it): landlock-scope")),
  );
});

Deno.test("--explain with no jail: the program ww spawns, or its stage under socket activation", () => {
  assert.deepEqual(
    describeDirectExec({ path: "/usr/bin/env", argv: ["env", "a b"] }, "/usr/bin/env"),
    [
      "  started by ww: /usr/bin/env, as ww's own child (ww's user, groups and capabilities)",
      "  command: env 'a b'",
    ],
  );
  const staged = describeDirectExec(
    { argv: ["ww-stage", "exec-listen-pid", "/srv/app", "-", "app"] },
    "/srv/app",
  );
  assert.match(
    staged[0],
    /its stage, which sets LISTEN_PID .* executes \/srv\/app in the same process$/,
  );
  assert.equal(staged[1], "  command: ww-stage exec-listen-pid /srv/app - app");
});

Deno.test("--explain's command line quotes control and format characters so that the line stays one and bash reads the argument back", () => {
  const arg = "a\nb\x1b[31mRED\u202eit's \\ 1\u00851\u{e0041}\t";
  const [, line] = describeDirectExec({ path: "/bin/echo", argv: ["echo", arg] }, "/bin/echo");
  assert.doesNotMatch(line, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
  const word = line.replace(/^ {2}command: echo /, "");
  const out = new Deno.Command("bash", { args: ["-c", `printf %s ${word}`] }).outputSync();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout), arg);
});

Deno.test("--explain ends a native run with the stage and the program's execve, as for the other backends", () => {
  const started =
    "  started by ww's stage: its child takes the steps above and executes the program; the stage stays as its supervisor";
  assert.deepEqual(
    describeNativeCommand(result({ path: "/bin/echo", argv: ["/bin/echo", "a b"] })),
    [
      started,
      "  command: /bin/echo 'a b'",
    ],
  );
  assert.deepEqual(
    describeNativeCommand(result({ path: "/usr/bin/echo", argv: ["echo", "hi"] }))[1],
    "  command: echo hi (executing /usr/bin/echo)",
  );
  assert.deepEqual(
    describeNativeCommand(result({ held: { fd: 5, keepOpen: false } }))[1],
    "  command: app (executed from fd 5)",
  );
});
