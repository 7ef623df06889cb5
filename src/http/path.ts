/** A request URL's path for logs: no query string (it may carry a token), at most 200 characters. */
export function pathOf(url: string | undefined): string {
  const text = url ?? '/';
  const query = text.indexOf('?');
  return (query === -1 ? text : text.slice(0, query)).slice(0, 200);
}
