// A directory ww keeps files in is trusted only when no one else can change any step of the way.
import assert from "node:assert/strict";
import { dirTrustProblem } from "./trusted_dir.ts";

const asRoot = { ignore: Deno.uid() !== 0 };

Deno.test({
  name: "every directory looked in counts, links followed; a part not made yet ends the walk",
  ...asRoot,
  fn: () => {
    const top = Deno.makeTempDirSync();
    try {
      Deno.mkdirSync(`${top}/own/ww`, { recursive: true, mode: 0o700 });
      assert.equal(dirTrustProblem(`${top}/own/ww`), undefined);
      assert.equal(dirTrustProblem(`${top}/own/not/yet`), undefined);
      // A link of ww's own in a directory of ww's own leads on: where it leads is checked.
      Deno.mkdirSync(`${top}/theirs`, { mode: 0o755 });
      Deno.chownSync(`${top}/theirs`, 65534, 65534);
      Deno.symlinkSync(`${top}/theirs`, `${top}/link`);
      assert.equal(
        dirTrustProblem(`${top}/link/ww`),
        `${top}/theirs belongs to uid 65534, not to ww's user or root`,
      );
      // A relative link, and .. after it, walk as the kernel does.
      Deno.symlinkSync("own/ww", `${top}/rel`);
      assert.equal(dirTrustProblem(`${top}/rel/../ww`), undefined);
      assert.equal(dirTrustProblem(`${top}/rel/../../theirs/x`), dirTrustProblem(`${top}/theirs`));
      // In a sticky directory others may write, a link of another user's is theirs to replace.
      Deno.mkdirSync(`${top}/sticky`);
      Deno.chmodSync(`${top}/sticky`, 0o1777);
      Deno.symlinkSync(`${top}/own`, `${top}/sticky/l`);
      assert.equal(dirTrustProblem(`${top}/sticky/l/ww`), undefined);
      new Deno.Command("chown", { args: ["-h", "65534", `${top}/sticky/l`] }).outputSync();
      assert.equal(
        dirTrustProblem(`${top}/sticky/l/ww`),
        `${top}/sticky/l is a link of uid 65534's in a directory others may write`,
      );
      // A loop of links ends.
      Deno.symlinkSync(`${top}/loop`, `${top}/loop`);
      assert.equal(dirTrustProblem(`${top}/loop/ww`), `${top}/loop/ww: too many levels of links`);
      Deno.writeTextFileSync(`${top}/file`, "");
      assert.equal(dirTrustProblem(`${top}/file/ww`), `${top}/file is not a directory`);
    } finally {
      Deno.removeSync(top, { recursive: true });
    }
  },
});
