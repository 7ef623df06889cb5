// powgate over MCP: the gate's own tools, and gated tools for any MCP server.
export { CLIENT_ADDRESS_HEADER, addressClientKey, markClientAddress, mcpClientKey, type ClientKeyFn, type ToolExtra } from './client-key.js';
export { gateTool, presentedTokens, registerGatedTool, withTokenArgument, type GatedToolConfig, type GatedToolOptions } from './gated-tool.js';
export { REASONS, REFUSAL_META_KEY, TOKEN_ARGUMENT, TOKEN_META_KEY, type McpReason } from './schemas.js';
export { createPowgateMcpServer, type PowgateMcpServerOptions } from './server.js';
export { powgateToolNames, registerPowgateTools, type PowgateToolNames, type PowgateToolsOptions } from './tools.js';
export { PRICE_META_KEY, describePrices, priceMeta } from './prices.js';
export { callChannel, mcpChannel, type McpChannelClassifier, type McpLogger, type McpMetrics } from './channel.js';
export { handleMcpHttp, type McpHttpOptions } from './http-egress.js';
