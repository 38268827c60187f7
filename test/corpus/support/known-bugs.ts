// Corpus cases that currently fail because of a bug in lib/ or native/. They
// are not fixed here (this suite only tests): each is run as `it.failing` on the
// backends it affects, so the suite stays green while the bug is there and
// turns red the day it is fixed (then delete the entry).
//
// SDK-free: the soak child loads it too, to leave these cases out of its mix.

export type Backend = 'native' | 'node-crypto';

export interface KnownBug {
  /** Backends on which the case fails. */
  backends: readonly Backend[];
  /** What goes wrong, and where. */
  cause: string;
  /** The change that would make the case pass. */
  fix: string;
}

// Empty: every bug this corpus found is fixed, and its case now runs as an
// ordinary test. A new finding goes here as { [klass]: { [case name]: bug } }.
const BUGS: Record<string, Record<string, KnownBug>> = {};

/** The known bug of case `name` in corpus class `klass` on `backend`, if any. */
export function knownBugFor(klass: string, name: string, backend: Backend): KnownBug | undefined {
  const bug = BUGS[klass]?.[name];
  return bug && bug.backends.includes(backend) ? bug : undefined;
}

/** Every entry, for the report and for a check that each still names a corpus case. */
export function allKnownBugs(): Array<{ klass: string; name: string; bug: KnownBug }> {
  return Object.entries(BUGS).flatMap(([klass, entries]) => Object.entries(entries).map(([name, bug]) => ({ klass, name, bug })));
}
