/** "Did you mean": the closest name by edit distance, for registries' and the CLI's unknown-name errors. */

/** Levenshtein distance between two strings (insert, delete, substitute each cost 1). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** The option closest to `name`, or null when none is within max(2, |name| / 3) edits. */
export function nearest(name: string, options: string[]): string | null {
  let best: string | null = null, bd = Infinity;
  for (const o of options) {
    const dd = editDistance(name, o);
    if (dd < bd) [best, bd] = [o, dd];
  }
  return bd <= Math.max(2, name.length / 3) ? best : null;
}
