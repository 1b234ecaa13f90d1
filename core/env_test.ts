// The child's environment.
import assert from "node:assert/strict";
import { childEnv } from "./env.ts";
import { layoutFds } from "../fd/layout.ts";

Deno.test("the environment is only --env plus WW_FD_*, sorted", () => {
  const env = childEnv({ B: "2", A: "1" }, layoutFds([{ name: "db", source: 7 }]));
  assert.deepEqual(env, ["A=1", "B=2", "WW_FD_DB=4"]);
});

Deno.test("WW_FD_* wins over a conflicting --env", () => {
  const env = childEnv({ WW_FD_DB: "99" }, layoutFds([{ name: "db", source: 7 }]));
  assert.deepEqual(env, ["WW_FD_DB=4"]);
});

Deno.test("nothing at all when nothing is asked for", () => {
  assert.deepEqual(childEnv({}, []), []);
});
