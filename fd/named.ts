// fd/named.ts — the extra descriptors a launcher hands its child after the program's own (the
// seccomp program, status pipes, the stage's plan, a held program...), each allocated by name,
// and the list of descriptors to move there built from a record keyed by the same names: a
// source can never land on another one's number because it was pushed in another order. Pure.

/** A name that gets a number only when `present` (e.g. a held program, when there is one). */
export interface OptionalFd<M extends string> {
  readonly name: M;
  readonly present: boolean;
}

/**
 * A number for each name, from `first` up, in the order of `names`; an optional name that is not
 * present gets none and takes no number.
 *
 * @example
 * allocateFds(5, ["seccomp", { name: "held", present: false }, "status"]);
 * // { seccomp: 5, status: 6 }
 */
export function allocateFds<const N extends string, const M extends string = never>(
  first: number,
  names: readonly (N | OptionalFd<M>)[],
): Readonly<Record<N, number> & Partial<Record<M, number>>> {
  const present: string[] = names.flatMap((n) =>
    typeof n === "string" ? [n as string] : n.present ? [n.name as string] : []
  );
  if (new Set(present).size !== present.length) {
    throw new Error(`allocateFds: a name given twice in ${present.join(", ")} (internal)`);
  }
  return Object.fromEntries(present.map((name, i) => [name, first + i])) as
    & Record<N, number>
    & Partial<Record<M, number>>;
}

/**
 * The descriptors of `opened` (the caller's, by name) in the order of the numbers `allocated`
 * gave the same names: what follows the program's own sources in planChildFds. Throws when the
 * two records do not name the same descriptors, or the numbers are not one run from the lowest.
 *
 * @example
 * namedSources({ seccomp: 5, status: 6 }, { status: 11, seccomp: 9 }); // [9, 11]
 */
export function namedSources(
  allocated: Readonly<Record<string, number>>,
  opened: Readonly<Record<string, number | undefined>>,
): number[] {
  const names = Object.keys(allocated).sort((a, b) => allocated[a] - allocated[b]);
  const given = Object.keys(opened).filter((k) => opened[k] !== undefined).sort();
  if (given.join() !== [...names].sort().join()) {
    throw new Error(
      `namedSources: descriptors opened for ${given.join(", ") || "nothing"}, allocated for ${
        names.join(", ") || "nothing"
      } (internal)`,
    );
  }
  names.forEach((name, i) => {
    if (allocated[name] !== allocated[names[0]] + i) {
      throw new Error(
        `namedSources: ${name} is not numbered in one run from the lowest (internal)`,
      );
    }
  });
  return names.map((name) => opened[name]!);
}
