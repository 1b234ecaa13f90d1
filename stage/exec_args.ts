/**
 * The stage's exec mode (stage/stage.c, `stage exec…`) as a command line. Apart from the stage's
 * plan (stage/plan.ts): an unjailed run needs only this, and loads nothing of the plan.
 *
 * @module
 */

/**
 * The stage's arguments (after its argv[0]) to execute a program in exec mode, as bwrap runs it
 * inside the jail and `--jail=none` runs it under socket activation: `target` is a path or a
 * descriptor number; `pwd` the user's own PWD, or undefined to take PWD out of the environment;
 * `listenPid` sets LISTEN_PID to the program's pid (see StagePlan.listenPid); `tty` makes fd 0
 * the controlling terminal of the program's session first (see StagePlan.controllingTerminal);
 * `report` (bwrap, whose fd 2 carries its own words to ww): right before it executes the program
 * the stage writes a NUL byte on fd 2 and moves the program's stderr from `report.stderr` there;
 * `landlock` (bwrap): Landlock keeps the program's descriptors to what each was opened for, so no
 * descriptor from the host reopens with more rights or walks out of the jail by ".."; with
 * `offline` too (no --net), an IP socket among them connects or binds nowhere else (Landlock's TCP
 * rights, which then take the program's own TCP on the jail's loopback with them); `pinned`
 * (bwrap): before anything else, each bind's `dest` must be the very file or directory that
 * descriptor `fd` holds, at a mount's root reached through no symbolic link, and read-only if
 * `how` is "ro", and each `dir` on the way to it that very directory (the stage compares device
 * and inode, then closes the descriptor), or the stage fails with one line naming the bind's
 * `dest` (see BwrapFds.binds and BwrapFds.waypoints); `tmpfs` (bwrap with --tmp-size): first of
 * all, the stage sends its mount namespace over this unix socket to the supervisor's bounder, which
 * bounds the files of the jail's in-memory file systems, and waits for it (see StagePlan.tmpfs).
 *
 * @example
 * stageExecArgs({ target: "/bin/app", argv0: "app", args: ["-v"], listenPid: true });
 * // ["exec-listen-pid", "/bin/app", "-", "app", "-v"]
 * stageExecArgs({ target: "/bin/app", argv0: "app", args: [], report: { stderr: 9 } });
 * // ["exec-report", "9", "/bin/app", "-", "app"]
 * stageExecArgs({
 *   target: "/bin/app", argv0: "app", args: [], pinned: [{ dest: "/d", fd: 8, how: "ro" }],
 * });
 * // ["exec-pinned", "1", "/d", "8", "ro", "/bin/app", "-", "app"]
 * stageExecArgs({ target: "/bin/app", argv0: "app", args: [], tmpfs: 7, report: { stderr: 9 } });
 * // ["exec-tmpfs-report", "7", "9", "/bin/app", "-", "app"]
 */
export function stageExecArgs(o: {
  readonly target: string;
  readonly pwd?: string;
  readonly argv0: string;
  readonly args: readonly string[];
  readonly listenPid?: boolean;
  readonly tty?: boolean;
  readonly tmpfs?: number;
  readonly report?: { readonly stderr: number };
  readonly landlock?: boolean;
  readonly offline?: boolean;
  readonly pinned?: readonly {
    readonly dest: string;
    readonly fd: number;
    readonly how: "ro" | "rw" | "dir";
  }[];
}): string[] {
  const pinned = o.pinned ?? [];
  const mode = `${o.tmpfs !== undefined ? "-tmpfs" : ""}${o.tty ? "-tty" : ""}${
    o.listenPid ? "-listen-pid" : ""
  }${o.report ? "-report" : ""}${pinned.length > 0 ? "-pinned" : ""}${
    o.landlock ? "-landlock" : ""
  }${o.landlock && o.offline ? "-offline" : ""}`;
  return [
    `exec${mode}`,
    ...(o.tmpfs !== undefined ? [String(o.tmpfs)] : []),
    ...(o.report ? [String(o.report.stderr)] : []),
    ...(pinned.length > 0
      ? [
        String(pinned.length),
        ...pinned.flatMap((p) => [p.dest, String(p.fd), p.how]),
      ]
      : []),
    o.target,
    o.pwd === undefined ? "-" : `=${o.pwd}`,
    o.argv0,
    ...o.args,
  ];
}
