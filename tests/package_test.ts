// tests/package_test.ts — ww as a package others import (deno.json "exports"): from a project that
// has never seen ww's deno.json, mod.ts starts a jailed program and serves a guest that imports
// the guest library, both by file URL; the published files name npm packages by full `npm:`
// specifiers (an import map is only ww's own); every export of the entry points has an @example.

import assert from "node:assert/strict";
import { REPO } from "./support/ww.ts";

const ROOT = new URL("../", import.meta.url);
const ENTRY_POINTS = ["mod.ts", "rpc/guest.ts", "examples/guest/fdmap.ts"];
/** What deno publish leaves out (deno.json "publish.exclude"); everything else is published. */
const UNPUBLISHED = /^(tests|bench|scripts|\.ci|\.tools|node_modules)\/|_test\.ts$/;

async function deno(args: string[], cwd: string) {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd, stdin: "null" }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

function publishedSources(dir = ""): string[] {
  const files: string[] = [];
  for (const e of Deno.readDirSync(new URL(dir || ".", ROOT))) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory && !UNPUBLISHED.test(`${path}/`) && !e.name.startsWith(".")) {
      files.push(...publishedSources(`${path}/`));
    } else if (e.isFile && e.name.endsWith(".ts") && !UNPUBLISHED.test(path)) files.push(path);
  }
  return files;
}

/** What a deno needs from its environment to reach the npm registry as this one does. */
const NETWORK_ENV = [
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "DENO_DIR",
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
];

Deno.test("mod.ts and the guest library work from a project with its own empty deno.json", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ww-package-" });
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, "{}\n");
    // The host: a jailed program (the default jail), then a guest served the console grant.
    await Deno.writeTextFile(
      `${dir}/host.ts`,
      `import { DEFAULT_POLICY, NO_GRANTS, type RunConfig, serveGuest, startProgram } from
  "${new URL("mod.ts", ROOT).href}";

const base: RunConfig = { program: "/bin/sh", args: ["-c", "echo jailed"], fds: [], env: {},
  ipfsApi: "", jail: DEFAULT_POLICY };
// The guest's deno may fetch npm packages: it reaches the registry as this deno does.
const NETWORK = Object.fromEntries(${JSON.stringify(NETWORK_ENV)}
  .flatMap((k) => Deno.env.get(k) === undefined ? [] : [[k, Deno.env.get(k)!]]));
const jailed = await startProgram(base);
console.log("jailed exit", (await jailed.status).code, jailed.jail.backend);

const guest = await startProgram({ ...base, program: Deno.execPath(),
  args: ["run", "-A", "--config", "${dir}/deno.json", "${dir}/guest.ts"],
  env: { HOME: Deno.env.get("HOME") ?? "/root", ...NETWORK }, jail: { ...DEFAULT_POLICY, backend: "none" } });
const served = serveGuest(guest, { ...NO_GRANTS, console: true },
  { programName: "guest", version: "test", stderr: (line: string) => console.log(line) });
console.log("guest exit", (await guest.status).code);
await served;
`,
    );
    await Deno.writeTextFile(
      `${dir}/guest.ts`,
      `import { connect } from "${new URL("rpc/guest.ts", ROOT).href}";
import { getFdMap } from "${new URL("examples/guest/fdmap.ts", ROOT).href}";

const host = await connect();
const { grants } = await host.identity();
await host.console().log(\`grants \${grants.join(",")}, fds \${JSON.stringify(getFdMap())}\`);
host.close();
`,
    );
    // The project's npm packages come from the registry, as a user's would: fetched first, with
    // two more tries, so that a download the network drops once (seen: a TLS handshake that
    // failed) is not taken for ww's failure.
    let cached = await deno(["cache", "host.ts", "guest.ts"], dir);
    for (let i = 0; i < 2 && cached.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      cached = await deno(["cache", "host.ts", "guest.ts"], dir);
    }
    assert.equal(cached.code, 0, `the project's packages did not download: ${cached.stderr}`);
    const checked = await deno(["check", "host.ts", "guest.ts"], dir);
    assert.equal(checked.code, 0, checked.stderr);
    const ran = await deno(["run", "-A", "host.ts"], dir);
    assert.equal(ran.code, 0, ran.stderr);
    const lines = ran.stdout.trim().split("\n");
    assert.equal(lines[0], "jailed");
    assert.match(lines[1], /^jailed exit 0 (bwrap|native)$/);
    assert.deepEqual(
      lines.slice(2),
      ["guest: info: grants console, fds {}", "guest exit 0"],
      `the guest's stderr: ${ran.stderr}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("published files import npm packages by full npm: specifiers, at deno.json's versions", () => {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT)));
  const pinned = new Map<string, string>();
  for (const target of Object.values(config.imports) as string[]) {
    const m = target.match(/^npm:\/?((?:@[^/@]+\/)?[^/@]+)@([^/]+)/);
    if (m) pinned.set(m[1], m[2]);
  }
  const problems: string[] = [];
  // Static imports and re-exports, and import("literal"), outside comments.
  const specifier = /(?:^\s*(?:import|export)\b[^;"']*?\bfrom\s*|\bimport\(\s*)["']([^"']+)["']/gm;
  for (const file of publishedSources()) {
    const code = Deno.readTextFileSync(new URL(file, ROOT)).replace(/^\s*(\/\/|\*|\/\*).*$/gm, "");
    for (const [, spec] of code.matchAll(specifier)) {
      if (/^(\.|node:|file:|jsr:)/.test(spec)) continue;
      const m = spec.match(/^npm:((?:@[^/@]+\/)?[^/@]+)@([^/]+)/);
      if (!m) problems.push(`${file}: "${spec}" resolves only through ww's import map`);
      else if (pinned.get(m[1]) !== m[2]) {
        problems.push(`${file}: "${spec}" differs from deno.json's ${m[1]}@${pinned.get(m[1])}`);
      }
    }
  }
  assert.ok(publishedSources().includes("rpc/guest.ts"), "the walk found the sources");
  assert.deepEqual(problems, []);
});

Deno.test("every export of the package's entry points is documented with an @example", async () => {
  const doc = await deno(["doc", "--json", ...ENTRY_POINTS], REPO);
  assert.equal(doc.code, 0, doc.stderr);
  type Declaration = { declarationKind: string; jsDoc?: { tags?: { kind: string }[] } };
  type Node = { name: string; declarations: Declaration[] };
  const nodes: Record<string, { symbols: Node[] }> = JSON.parse(doc.stdout).nodes;
  const missing: string[] = [];
  let exports = 0;
  for (const [module, { symbols }] of Object.entries(nodes)) {
    for (const symbol of symbols) {
      // "reference": a re-export (`export type { X }`), documented where X is declared.
      const own = symbol.declarations.filter((d) =>
        d.declarationKind === "export" && (d as { kind?: string }).kind !== "reference"
      );
      if (own.length === 0) continue;
      exports++;
      if (!own.some((d) => d.jsDoc?.tags?.some((t) => t.kind === "example"))) {
        missing.push(`${module.slice(module.lastIndexOf("/") + 1)}: ${symbol.name}`);
      }
    }
  }
  assert.ok(exports > 40, `deno doc listed only ${exports} exports`);
  assert.deepEqual(missing, []);
});
