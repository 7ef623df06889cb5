// Errors told to MCP clients lose their file paths: the addon's location (and so the
// install's layout) is for the operator's log, not for whoever calls the tools.

const PATH = /(?:[A-Za-z]:)?(?:[\\/][^\s'"`,;()[\]<>]+)+/g;

/** `text` with every file path replaced by `<path>`. */
export function withoutPaths(text: string): string {
  return text.replace(PATH, '<path>');
}
