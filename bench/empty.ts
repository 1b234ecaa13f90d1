// bench/empty.ts — an empty script: the floor of any `deno run`.
