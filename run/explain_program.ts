// run/explain_program.ts — `ww run --explain`: what startProgram would do with a config, computed
// by the same plan (plan/run.ts) from the same facts (run/facts.ts), without running anything; for an /ipns/ name, also what it resolves to now
// and why ww believes it (the node is asked for the name's record, nothing else). Loaded only for
// --explain.

import { layoutFds } from "../fd/layout.ts";
import { describeOwnGrant, ownFdGrant } from "../fd/grants.ts";
import { resolveIpnsName } from "../ipfs/ipns.ts";
import { DEFAULT_IPFS_TIMEOUT_MS } from "../ipfs/multiaddr.ts";
import { IpfsNode } from "../ipfs/node.ts";
import { formatIpfsPath, isIpfsPath, parseIpfsPath } from "../core/ipfs_path.ts";
import type { RunConfig } from "../core/config.ts";
import { planRun } from "../plan/run.ts";
import { jailChoice } from "./auto.ts";
import { explainRun } from "./explain.ts";
import { bwrapFacts, directFacts, runFacts } from "./facts.ts";
import { jailIdRange, peekJailId } from "./ids.ts";
import { ipfsJailPath } from "./launch.ts";
import { nativeFacts } from "./native.ts";
import { resolveProgram } from "./resolve.ts";
import { checkProgramFile } from "./script.ts";
import { checkRunConfig } from "./start.ts";
import { workTmpdir } from "./tmpdir.ts";

/**
 * For an /ipns/ program, what its name resolves to now and why that is believed, as lines for
 * --explain (after the program's); nothing for other programs. Resolving asks the node for the
 * name's record (or DNS for a domain) and fetches nothing else; a name ww would refuse is the same
 * one-line error (exit 125) as for a run.
 */
export async function explainName(config: RunConfig): Promise<string[]> {
  const parsed = parseIpfsPath(config.program);
  if (!isIpfsPath(config.program) || "error" in parsed || parsed.namespace !== "ipns") return [];
  const node = new IpfsNode(
    config.ipfsApi,
    config.ipfsTimeoutMs ?? DEFAULT_IPFS_TIMEOUT_MS,
    config.program,
  );
  try {
    const { path, why } = await resolveIpnsName(node, parsed.root, config.program, {
      trustNode: config.trustNodeIpns,
    });
    const target = parseIpfsPath(path);
    const full = "error" in target
      ? path
      : formatIpfsPath({ ...target, segments: [...target.segments, ...parsed.segments] });
    return [`resolves to: ${full}`, ...why.map((line) => `  ${line}`)];
  } finally {
    node.close();
  }
}

/**
 * What startProgram would do with `config`, as text (`ww run --explain`); runs nothing. The work
 * directory's name is shown as a pattern, since it is only made when the program starts.
 *
 * @example
 * ```ts ignore
 * for (const line of explainProgram(config)) console.log(line); // fds, env, jail; runs nothing
 * ```
 */
export async function explainProgram(config: RunConfig): Promise<string[]> {
  checkRunConfig(config);
  const own = config.own ?? [];
  const ipfs = isIpfsPath(config.program);
  const path = ipfs
    ? ipfsJailPath(config.program)
    : resolveProgram(config.program, Deno.env.get("PATH") ?? "", Deno.cwd());
  // ww's own grants are laid out by name alone: their descriptors do not exist yet (nothing is
  // opened to explain a run), so -1 stands in.
  const grants = [
    ...config.fds,
    ...own.map((g) => ownFdGrant(g, -1, config.socketActivation ?? false)),
  ];
  const slots = layoutFds(grants).map((s) => {
    const g = s.own ? own.find((o) => o.name === s.name) : undefined;
    return g ? { ...s, what: describeOwnGrant(g) } : s;
  });
  const choice = await jailChoice(config.jail);
  if (!ipfs) checkProgramFile(config.program, path, choice.backend, config.jail);
  // The host id a run would lease now (ww is root), shown without taking it.
  const leased = choice.backend !== "none" ? peekJailId(config.jail) : undefined;
  const hostIds = leased === undefined
    ? undefined
    : { leased, range: jailIdRange().range, fromEnv: jailIdRange().fromEnv };
  // The same plan a run computes, from the same facts (run/facts.ts). A program from IPFS is shown
  // as a cold run of a program (not a #! script) has it: a sealed memfd, argv[0] the path's last
  // segment.
  const facts = runFacts({
    config: { ...config, fds: grants },
    choice,
    program: ipfs
      ? {
        path,
        argv0: path.slice(path.lastIndexOf("/") + 1),
        held: { sealed: true, script: false },
      }
      : { path, argv0: config.program },
    leased,
    workdir: `${workTmpdir().replace(/\/$/, "")}/ww-XXXXXX`,
    // A terminal of its own (--tty) becomes the program's controlling terminal, as in a run.
    controllingTerminal: config.tty === true,
  });
  const plan = planRun({
    ...facts,
    ...(choice.backend === "bwrap" ? { bwrap: bwrapFacts(config) } : {}),
    ...(choice.backend === "none" ? { direct: directFacts() } : {}),
    ...(choice.backend === "native"
      ? { native: nativeFacts(config.jail, ipfs ? undefined : facts.program.source) }
      : {}),
  });
  const { env } = plan;
  if (plan.backend === "native") {
    const limitUid = plan.native.plan.identity?.uid ?? Deno.uid() ?? 0;
    return explainRun({ config, path, slots, env, choice, native: plan.native, limitUid, hostIds });
  }
  if (plan.backend === "none") {
    const direct = { exec: plan.exec };
    return explainRun({ config, path, slots, env, choice, direct, limitUid: Deno.uid() ?? 0 });
  }
  const { host, argv, mounts, dropTo, held } = plan;
  return explainRun({
    config,
    path,
    slots,
    env,
    choice,
    bwrap: { host, argv, mounts, dropTo, ...(held ? { held } : {}) },
    limitUid: dropTo?.uid ?? Deno.uid() ?? 0,
    hostIds,
  });
}
