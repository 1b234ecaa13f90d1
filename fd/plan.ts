// fd/plan.ts — turns "the child's fd N+i must be the object at the caller's fd sources[i]" into an
// ordered list of dup2/closefrom steps, run in the child between fork and exec (posix_spawn file
// actions). Pure: no Deno, no FFI.
//
// The steps are correct for any overlap of source and target numbers, cycles included: a target is
// only written once no pending move still reads it, and a cycle is broken by parking one object on
// a temporary descriptor that is neither a source nor a target. Everything at or above the first
// number after the last target is closed at the end, so nothing ungranted survives into the child.

/** One file action. `dup2(n, n)` clears FD_CLOEXEC (POSIX.1-2024; glibc >= 2.29). */
export type FdStep =
  | { readonly op: "dup2"; readonly from: number; readonly to: number }
  | { readonly op: "closefrom"; readonly from: number };

/**
 * Steps that leave `sources[i]`'s object on fd `firstTarget + i`, fds below `firstTarget`
 * untouched, and every fd from `firstTarget + sources.length` up closed.
 *
 * @example
 * planFdSteps([5, 4], 4); // a cycle: fd 5 -> 4 and fd 4 -> 5
 * // => dup2(4, 6), dup2(5, 4), dup2(6, 5), closefrom(6)
 */
export function planFdSteps(sources: readonly number[], firstTarget: number): FdStep[] {
  for (const s of sources) {
    if (!Number.isSafeInteger(s) || s < 0) throw new RangeError(`invalid source fd ${s}`);
  }
  if (!Number.isSafeInteger(firstTarget) || firstTarget < 0) {
    throw new RangeError(`invalid first target fd ${firstTarget}`);
  }
  const steps: FdStep[] = [];
  const busy = new Set<number>(sources);
  // The pending moves: pendingTo[i] must receive the object now on pendingFrom[i]. Two arrays, not
  // a Map walked with for..of: every run plans its descriptors, and each step of a Map's
  // iterator is a fresh [key, value] array (issue 16).
  const pendingTo: number[] = [];
  const pendingFrom: number[] = [];
  for (let i = 0; i < sources.length; i++) {
    const t = firstTarget + i;
    busy.add(t);
    if (sources[i] === t) steps.push({ op: "dup2", from: t, to: t });
    else {
      pendingTo.push(t);
      pendingFrom.push(sources[i]);
    }
  }

  const isReadByPending = (fd: number, except: number) => {
    for (let i = 0; i < pendingTo.length; i++) {
      if (pendingTo[i] !== except && pendingFrom[i] === fd) return true;
    }
    return false;
  };
  let nextTemp = firstTarget;
  const freshTemp = () => {
    while (busy.has(nextTemp)) nextTemp++;
    busy.add(nextTemp);
    return nextTemp;
  };

  while (pendingTo.length > 0) {
    let progressed = false;
    for (let i = 0; i < pendingTo.length;) {
      const t = pendingTo[i];
      if (isReadByPending(t, t)) {
        i++;
        continue;
      }
      steps.push({ op: "dup2", from: pendingFrom[i], to: t });
      removeAt(pendingTo, i);
      removeAt(pendingFrom, i);
      progressed = true;
    }
    if (progressed) continue;
    // Every pending target is still read by another pending move: only cycles remain.
    const blocked = pendingTo[0];
    const temp = freshTemp();
    steps.push({ op: "dup2", from: blocked, to: temp });
    for (let i = 0; i < pendingFrom.length; i++) {
      if (pendingFrom[i] === blocked) pendingFrom[i] = temp;
    }
  }
  steps.push({ op: "closefrom", from: firstTarget + sources.length });
  return steps;
}

/** Removes `a[i]`, keeping the order of the rest (splice would make an array of what it removed). */
function removeAt(a: number[], i: number): void {
  for (let j = i; j < a.length - 1; j++) a[j] = a[j + 1];
  a.length--;
}

/**
 * The child's descriptors as ww hands them over: fd 0-2 from `stdio` (a source descriptor, or
 * undefined for ww's own, left as it is, open or closed), fd 3, 4, .. from `fromThree` (the host
 * socket and the grants in the child's order: fd/layout.ts childFdSources), all planned in one
 * pass so that a pipe landing on fd 1 cannot overwrite a grant whose source is ww's fd 1. Every
 * launcher hands its child's descriptors over this way.
 *
 * @example
 * planChildFds([undefined, 9, undefined], [7, 1]); // fd 1 = pipe 9, fd 3 = 7, fd 4 = ww's fd 1
 */
export function planChildFds(
  stdio: readonly (number | undefined)[],
  fromThree: readonly number[],
): FdStep[] {
  if (stdio.length !== 3) throw new RangeError(`stdio has ${stdio.length} entries, not 3`);
  const sources = [...stdio.map((s, i) => s ?? i), ...fromThree];
  // An inherited stdio descriptor is not touched: dup2(n, n) would fail on a closed fd 0-2.
  return planFdSteps(sources, 0).filter((s) =>
    !(s.op === "dup2" && s.from === s.to && s.to < 3 && stdio[s.to] === undefined)
  );
}
