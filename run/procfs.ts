// run/procfs.ts — finds the program inside a bubblewrap jail from the host: it is the child of the
// sandbox's pid 1 (ww's stage, which forks it first), visible in /proc/<pid>/task/<pid>/children;
// orphans the stage reaps are listed after it.

/**
 * The host pid of the program, or undefined once the jail is gone. Polls briefly: the jail's pid 1
 * forks the program once bwrap has set the jail up.
 */
export async function programPidInJail(
  initPid: number,
  jailGone: Promise<unknown>,
): Promise<number | undefined> {
  let gone = false;
  const end = () => gone = true;
  jailGone.then(end, end);
  for (let delay = 1; !gone; delay = Math.min(delay * 2, 50)) {
    try {
      const children = Deno.readTextFileSync(`/proc/${initPid}/task/${initPid}/children`);
      const first = children.trim().split(" ")[0];
      if (first) return Number(first);
    } catch {
      return undefined;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
  return undefined;
}
