// An MCP server's answers are untrusted: the Streamable HTTP transport reads them through this.

/** Most bytes read of one HTTP answer from an audited MCP server (a tool list with its schemas fits). */
export const MAX_MCP_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * fetch whose answer bodies fail, and are cancelled, once they pass `maxBytes`: a hostile
 * server's endless or huge answer costs the audit a bounded read, then an error, never its memory.
 */
export function boundedFetch(maxBytes: number): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body) return response;
    let size = 0;
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          size += chunk.byteLength;
          if (size > maxBytes) controller.error(new Error(`the answer passed ${maxBytes} bytes`));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
