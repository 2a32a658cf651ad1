// Drives `claude-mem mcp` over stdio with the official TypeScript MCP SDK
// (a client this project did not write): list the tools, save a memory,
// find it with memory_search and claude-mem's search. run.sh starts the
// server and sets CLAUDE_MEM_BIN and CLAUDE_MEM_SERVER_URL.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const bin = process.env.CLAUDE_MEM_BIN;
const url = process.env.CLAUDE_MEM_SERVER_URL;
if (!bin || !url) {
  console.error("set CLAUDE_MEM_BIN and CLAUDE_MEM_SERVER_URL (run.sh does)");
  process.exit(2);
}

const want = ["memory_add", "memory_search", "memory_context", "memory_forget", "memory_list_recent",
  "memory_record_decision", "search", "timeline", "get_observations"];

function fail(msg) {
  console.error("mcp-interop: FAIL: " + msg);
  process.exit(1);
}

function text(res) {
  return (res.content || []).filter((c) => c.type === "text").map((c) => c.text).join("");
}

const transport = new StdioClientTransport({
  command: bin,
  args: ["mcp", "--url", url],
  env: { ...process.env },
  stderr: "inherit",
});
const client = new Client({ name: "mcp-interop", version: "0.0.0" });
await client.connect(transport);

const { tools } = await client.listTools();
const names = tools.map((t) => t.name);
for (const n of want) {
  if (!names.includes(n)) fail(`tool ${n} is not listed: ${names.join(", ")}`);
}
for (const t of tools) {
  if (!t.inputSchema || t.inputSchema.type !== "object") fail(`tool ${t.name} has input schema ${JSON.stringify(t.inputSchema)}`);
}

const marker = "interop" + Date.now();
const added = await client.callTool({ name: "memory_add", arguments: { project: "interop", text: `${marker} the TypeScript SDK can read this` } });
if (added.isError) fail("memory_add: " + text(added));
const id = JSON.parse(text(added)).id;

const found = await client.callTool({ name: "memory_search", arguments: { query: marker } });
if (found.isError) fail("memory_search: " + text(found));
const hits = JSON.parse(text(found));
if (!Array.isArray(hits) || !hits.some((o) => o.id === id)) fail(`memory_search ${marker} did not find memory ${id}: ${text(found)}`);

const index = await client.callTool({ name: "search", arguments: { query: marker, limit: 5 } });
if (index.isError || !text(index).includes(String(id))) fail(`search did not list #${id}: ${text(index)}`);

await client.close();
console.log(`mcp-interop: ok: ${tools.length} tools; memory_search and search found memory ${id} over stdio`);
