/**
 * Whether every key that starts with `prefix` hashes by a tag inside `prefix` (Redis Cluster's
 * rule: the text between the first `{` and the first `}` after it, if not empty), so that all
 * such keys share one hash slot whatever follows.
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open >= 0 && prefix.indexOf('}', open + 1) > open + 1;
}
