// tests/structure_test.ts — the seams between folders hold: no two folders of the program import
// each other (directly or round a longer loop), and core/ (what cli/, ipfs/, rpc/ and run/
// share) calls no I/O. Read from the source itself, so a new import that breaks either fails here.

import assert from "node:assert/strict";
import { PROGRAM_FOLDERS } from "../core/folders.ts";

const ROOT = new URL("../", import.meta.url);
const PROGRAM: readonly string[] = PROGRAM_FOLDERS;
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?from\s*["'](\.{1,2}\/[^"']+)["']/g;

function programFiles(folder: string): string[] {
  return [...Deno.readDirSync(new URL(`${folder}/`, ROOT))]
    .filter((e) => e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts"))
    .map((e) => `${folder}/${e.name}`);
}

function folderOf(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? "." : path.slice(0, slash);
}

/** Each folder's static imports, as folder -> folder -> the file edges behind it. */
function folderGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const folder of PROGRAM) {
    const out = new Map<string, string[]>();
    for (const file of programFiles(folder)) {
      const source = Deno.readTextFileSync(new URL(file, ROOT));
      for (const [, spec] of source.matchAll(IMPORT)) {
        const target = new URL(spec, new URL(file, ROOT)).pathname.slice(ROOT.pathname.length);
        const to = folderOf(target);
        if (to === folder) continue;
        out.set(to, [...(out.get(to) ?? []), `${file} -> ${target}`]);
      }
    }
    graph.set(folder, out);
  }
  return graph;
}

/** A loop of folders, as the file edges that make it, or undefined when there is none. */
function findLoop(graph: Map<string, Map<string, string[]>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (folder: string): string[] | undefined => {
    state.set(folder, "open");
    path.push(folder);
    for (const to of graph.get(folder)?.keys() ?? []) {
      if (state.get(to) === "open") {
        const loop = [...path.slice(path.indexOf(to)), to];
        return loop.slice(1).map((f, i) => graph.get(loop[i])!.get(f)![0]);
      }
      if (!state.has(to)) {
        const found = visit(to);
        if (found) return found;
      }
    }
    path.pop();
    state.set(folder, "done");
    return undefined;
  };
  for (const folder of graph.keys()) {
    if (state.has(folder)) continue;
    const found = visit(folder);
    if (found) return found;
  }
  return undefined;
}

/** Folders at the root that are not the program: they may import anything. */
const NOT_PROGRAM = ["bench", "examples", "scripts", "tests", "node_modules", "dist", ".tools"];

Deno.test("every folder of TypeScript at the root is the program's (core/folders.ts) or named as not", () => {
  const hasTs = (dir: URL): boolean =>
    [...Deno.readDirSync(dir)].some((e) =>
      e.isFile ? e.name.endsWith(".ts") : e.isDirectory && hasTs(new URL(`${e.name}/`, dir))
    );
  const unlisted = [...Deno.readDirSync(ROOT)]
    .filter((e) => e.isDirectory && !e.name.startsWith(".git") && !NOT_PROGRAM.includes(e.name))
    .filter((e) => !PROGRAM.includes(e.name) && hasTs(new URL(`${e.name}/`, ROOT)))
    .map((e) => e.name);
  assert.deepEqual(
    unlisted,
    [],
    "add each to PROGRAM_FOLDERS in core/folders.ts, or to NOT_PROGRAM",
  );
});

Deno.test("no two of the program's folders import each other, directly or round a loop", () => {
  assert.equal(findLoop(folderGraph()), undefined);
});

Deno.test("the folder check finds a loop when there is one", () => {
  const graph = new Map([
    ["a", new Map([["b", ["a/x.ts -> b/y.ts"]]])],
    ["b", new Map([["c", ["b/y.ts -> c/z.ts"]]])],
    ["c", new Map([["a", ["c/z.ts -> a/x.ts"]]])],
  ]);
  assert.deepEqual(findLoop(graph), ["a/x.ts -> b/y.ts", "b/y.ts -> c/z.ts", "c/z.ts -> a/x.ts"]);
  graph.get("c")!.delete("a");
  assert.equal(findLoop(graph), undefined);
});

Deno.test("core/ imports only pure folders and calls no I/O", () => {
  const graph = folderGraph();
  for (const to of graph.get("core")!.keys()) {
    assert.ok(["fd", "jail", "ffi"].includes(to), `core imports ${to}`);
  }
  for (const [to, edges] of graph.get("core")!) {
    if (to !== "ffi") continue;
    // Only the errno numbers, which are constants: no binding of libc.
    for (const edge of edges) assert.match(edge, /-> ffi\/errno\.ts$/);
  }
  for (const file of programFiles("core")) {
    const source = Deno.readTextFileSync(new URL(file, ROOT));
    // lazy.ts's import() is a module load, not I/O on the host; nothing else may touch Deno.*.
    assert.doesNotMatch(source.replace(/^\s*(\/\/|\*).*$/gm, ""), /\bDeno\.\w+/, file);
  }
});

Deno.test("plan/ (one plan per run) is pure: it imports no ffi/ nor run/, and calls no Deno API", () => {
  const graph = folderGraph();
  for (const to of graph.get("plan")!.keys()) {
    assert.ok(["core", "fd", "jail", "stage"].includes(to), `plan imports ${to}`);
  }
  for (const file of programFiles("plan")) {
    const source = Deno.readTextFileSync(new URL(file, ROOT));
    assert.doesNotMatch(source.replace(/^\s*(\/\/|\*).*$/gm, ""), /\bDeno\.\w+/, file);
  }
});
