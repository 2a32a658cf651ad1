package openapi

import (
	"net/http"
	"reflect"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/exchange"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/pipeline"
	"github.com/claude-mem/claude-mem-server/host/restapi"
	"github.com/claude-mem/claude-mem-server/host/search"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

var tagDescriptions = map[string]string{
	"server":   "Health, information and this document.",
	"projects": "Projects of the caller's team.",
	"sessions": "Agent sessions: start, end, read.",
	"events":   "The write path: agent events and raw hook payloads.",
	"memories": "Observations as memories, with their history (supersede, as_of), and forgetting.",
	"search":   "Full-text search and context packs.",
	"jobs":     "Generation jobs of the outbox.",
	"data":     "Export, import and reindex.",
	"admin":    "Teams, projects and API keys (admin scope), and the audit log.",
	"mcp":      "MCP over streamable HTTP (docs/mcp.md).",
}

// componentNames name the components whose type name is ambiguous or
// says too little in a document of its own.
var componentNames = map[reflect.Type]string{
	reflect.TypeFor[access.Project]():              "AdminProject",
	reflect.TypeFor[access.ProjectList]():          "AdminProjectList",
	reflect.TypeFor[access.CreateProjectRequest](): "AdminCreateProjectRequest",
	reflect.TypeFor[audit.Entry]():                 "AuditEntry",
	reflect.TypeFor[pipeline.Result]():             "EventResult",
	reflect.TypeFor[memory.Event]():                "StoredEvent",
	reflect.TypeFor[supervisor.Status]():           "PluginStatus",
	reflect.TypeFor[exchange.Counts]():             "ImportCounts",
	reflect.TypeFor[restapi.Version]():             "MemoryVersion",
	reflect.TypeFor[search.Result]():               "SearchResult",
	reflect.TypeFor[search.Hit]():                  "SearchHit",
	reflect.TypeFor[search.Prompt]():               "SearchPrompt",
}

// requestRequired are the fields a request body must carry, as the
// handlers check them (jsonschema-go's inference, from omitempty, fits
// replies only).
var requestRequired = map[reflect.Type][]string{
	reflect.TypeFor[event.AgentEvent]():             {"type", "content_session_id"},
	reflect.TypeFor[pipeline.StartSessionRequest](): {"content_session_id"},
	reflect.TypeFor[restapi.CreateProjectRequest](): {"name"},
	reflect.TypeFor[restapi.MemoryRequest]():        {"text"},
	reflect.TypeFor[access.CreateTeamRequest]():     {"id"},
	reflect.TypeFor[access.CreateProjectRequest]():  {"name"},
	reflect.TypeFor[access.CreateKeyRequest]():      {"scopes"},
}

// Parameters that several routes share.
var (
	idParam = func(what string) Param {
		return Param{Name: "id", In: "path", Type: "integer", Format: "int64", Description: "The " + what + "'s id."}
	}
	generateParam = Param{Name: "generate", In: "query", Type: "string", Enum: []string{"true", "false", "1", "0"},
		Description: "false stores the event without queueing generation. Default true."}
	teamParam = Param{Name: "team", In: "query", Type: "string",
		Description: "Another team's id; only a key with the * scope may name one."}
)

// anyObject is a JSON object the server passes through: hook payloads
// and replies, which each agent adapter defines.
func anyObject(description string) *jsonschema.Schema {
	return &jsonschema.Schema{Type: "object", Description: description}
}

// jsonLines is a stream of JSON lines (application/x-ndjson). OpenAPI 3.1
// has no keyword for a sequence of documents, so the schema describes the
// stream as an array with one item per line: how validators that decode
// the lines (see this package's tests) check it.
func jsonLines(description string, item *jsonschema.Schema) *Body {
	return &Body{ContentType: exchange.ContentType, Description: description,
		Schema: &jsonschema.Schema{Type: "array", Description: description + " Each line is one item of this array.", Items: item}}
}

// exportLine is one line of claude-mem-server's export format.
func exportLine() *jsonschema.Schema {
	kinds := []any{exchange.KindHeader, exchange.KindProject, exchange.KindSession, exchange.KindEvent,
		exchange.KindPrompt, exchange.KindObservation, exchange.KindSummary, exchange.KindEnd}
	return &jsonschema.Schema{Type: "object", Required: []string{"kind"},
		Description: "A row of the export; kind says which (docs/api.md#export-and-import).",
		Properties:  map[string]*jsonschema.Schema{"kind": {Type: "string", Enum: kinds}}}
}

// mcpMemoryLine is one line of the MCP memory server's memory.jsonl.
func mcpMemoryLine() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "object", Required: []string{"type"},
		Description: "An entity or a relation of the MCP memory server's knowledge graph.",
		Properties:  map[string]*jsonschema.Schema{"type": {Type: "string", Enum: []any{"entity", "relation"}}}}
}

// batchRequest is POST /v1/events/batch's body: a JSON array of events or
// an object holding one (pipeline.batchBody decodes both).
func batchRequest() *jsonschema.Schema {
	events := &jsonschema.Schema{Type: "array", MinItems: jsonschema.Ptr(1), MaxItems: jsonschema.Ptr(pipeline.MaxBatch),
		Items: &jsonschema.Schema{Ref: componentRef + "AgentEvent"}}
	return &jsonschema.Schema{
		Description: "1 to 500 events, as an array or as {\"events\": [...]}. The batch is atomic: one bad event stores none.",
		OneOf: []*jsonschema.Schema{
			events,
			{Type: "object", Required: []string{"events"}, Properties: map[string]*jsonschema.Schema{"events": events},
				AdditionalProperties: &jsonschema.Schema{Not: &jsonschema.Schema{}}},
		},
	}
}

// Operations describes every route of the REST surface except the legacy
// /api routes of the TypeScript claude-mem (docs/migration-from-claude-mem.md),
// in the order the document lists them.
func Operations() []Operation {
	return []Operation{
		{Method: http.MethodGet, Path: "/healthz", ID: "health", Tag: "server",
			Summary:   "Liveness and the queue engine's health, for container healthchecks.",
			Responses: []Response{OK[httpapi.Health]("The server is up; status is ok or degraded.")}},
		{Method: http.MethodGet, Path: "/v1/info", ID: "getInfo", Tag: "server",
			Summary:   "The server's version, engine, plugins, queue and outbox counts, and generation budget.",
			Responses: []Response{OK[httpapi.Info]("The server's state.")}},
		{Method: http.MethodGet, Path: Path, ID: "getOpenAPI", Tag: "server",
			Summary:   "This document.",
			Responses: []Response{{Status: http.StatusOK, Description: "The OpenAPI 3.1 document of this API.", Body: &Body{Schema: anyObject("An OpenAPI 3.1 document.")}}}},
		{Method: http.MethodGet, Path: "/metrics", ID: "getMetrics", Tag: "server",
			Summary:   "Prometheus metrics (docs/metrics.md).",
			Responses: []Response{{Status: http.StatusOK, Description: "The Prometheus text exposition format.", Body: &Body{ContentType: "text/plain", Schema: &jsonschema.Schema{Type: "string"}}}}},

		{Method: http.MethodGet, Path: "/v1/projects", ID: "listProjects", Tag: "projects",
			Summary:   "The team's projects (a key bound to a project sees that one).",
			Responses: []Response{OK[restapi.ProjectList]("The projects, by name.")}},
		{Method: http.MethodPost, Path: "/v1/projects", ID: "createProject", Tag: "projects",
			Summary: "Creates a project, or returns the team's project of that name.",
			Request: JSON[restapi.CreateProjectRequest](),
			Responses: []Response{
				Created[restapi.ProjectCreated]("The project was created."),
				OK[restapi.ProjectCreated]("The team already had a project of that name."),
			}},
		{Method: http.MethodGet, Path: "/v1/projects/{id}", ID: "getProject", Tag: "projects",
			Summary: "A project with its row counts.", Params: []Param{idParam("project")},
			Responses: []Response{OK[restapi.ProjectDetail]("The project.")}},

		{Method: http.MethodPost, Path: "/v1/sessions/start", ID: "startSession", Tag: "sessions",
			Summary: "Starts a session, or returns the one with that content_session_id.",
			Request: JSON[pipeline.StartSessionRequest](),
			Responses: []Response{
				Created[pipeline.SessionResponse]("The session was created."),
				OK[pipeline.SessionResponse]("The session existed, or was skipped (status skipped, with a reason)."),
			}},
		{Method: http.MethodPost, Path: "/v1/sessions/{id}/end", ID: "endSession", Tag: "sessions",
			Summary: "Marks a session completed and queues its summary.",
			Params:  []Param{idParam("session"), generateParam},
			Request: &Body{Type: JSON[pipeline.EndSessionRequest]().Type, Description: "Optional: an empty body is allowed."},
			Responses: []Response{
				OK[pipeline.SessionResponse]("The session is completed."),
			}},
		{Method: http.MethodGet, Path: "/v1/sessions/{id}", ID: "getSession", Tag: "sessions",
			Summary: "A session with its prompts, the ids of its current observations, and its summaries.",
			Params:  []Param{idParam("session")},
			Responses: []Response{
				OK[restapi.SessionDetail]("The session."),
			}},

		{Method: http.MethodPost, Path: "/v1/events", ID: "postEvent", Tag: "events",
			Summary: "Stores one agent event (docs/generic-events.md) and queues its generation.",
			Params:  []Param{generateParam},
			Request: JSON[event.AgentEvent](),
			Responses: []Response{
				Created[pipeline.Result]("The event was stored."),
				OK[pipeline.Result]("The event was stored before (status existing, with the original ids), or skipped."),
			}},
		{Method: http.MethodPost, Path: "/v1/events/batch", ID: "postEventBatch", Tag: "events",
			Summary: "Stores 1 to 500 events in one transaction.",
			Params:  []Param{generateParam},
			Request: &Body{Schema: batchRequest()},
			Responses: []Response{
				Created[pipeline.BatchResponse]("At least one event was stored."),
				OK[pipeline.BatchResponse]("Every event existed already or was skipped."),
			}},
		{Method: http.MethodGet, Path: "/v1/events/{id}", ID: "getEvent", Tag: "events",
			Summary: "A stored event, its generation job, and the observations made from it.",
			Params:  []Param{idParam("event")},
			Responses: []Response{
				OK[pipeline.EventResponse]("The event."),
			}},
		{Method: http.MethodPost, Path: "/v1/hooks/{adapter}/{event}", ID: "postHook", Tag: "events",
			Summary:     "Takes an agent's raw hook payload through its adapter plugin, and answers what the agent expects.",
			Description: "Claude Code's HTTP hooks post here (claude-code adapter). Headers X-Claude-Mem-Status, -Event-Id, -Session-Id and -Job-Id say what was stored.",
			Params: []Param{
				{Name: "adapter", In: "path", Type: "string", Description: "The adapter plugin: claude-code, generic, or an external one."},
				{Name: "event", In: "path", Type: "string", Description: "The hook event, as the adapter names it (SessionStart, PostToolUse, ...)."},
				generateParam,
			},
			Request: &Body{Schema: anyObject("The hook's JSON payload, as the agent sends it.")},
			Responses: []Response{
				{Status: http.StatusCreated, Description: "The event was stored; the body is the agent's hook reply (with additionalContext where the event takes it).",
					Body: &Body{Schema: anyObject("The hook reply the adapter renders.")}},
				{Status: http.StatusOK, Description: "The event existed or was skipped; the body is the hook reply.",
					Body: &Body{Schema: anyObject("The hook reply the adapter renders.")}},
			}},

		{Method: http.MethodPost, Path: "/v1/memories", ID: "createMemory", Tag: "memories",
			Summary: "Stores a manual memory in a project (no generation).",
			Request: JSON[restapi.MemoryRequest](),
			Responses: []Response{
				Created[restapi.MemoryResponse]("The memory was stored."),
				OK[restapi.MemoryResponse]("The same memory existed (created false)."),
			}},
		{Method: http.MethodGet, Path: "/v1/memories/{id}", ID: "getMemory", Tag: "memories",
			Summary: "A memory: the version of its history current now, or at as_of, with the history.",
			Params: []Param{idParam("memory"),
				{Name: "as_of", In: "query", Type: "string", Format: "date-time", Description: "An RFC 3339 time: the version current then."}},
			Responses: []Response{OK[restapi.MemoryResponse]("The memory.")}},
		{Method: http.MethodPatch, Path: "/v1/memories/{id}", ID: "patchMemory", Tag: "memories",
			Summary: "Changes fields of the current version in place (no history).",
			Params:  []Param{idParam("memory")},
			Request: JSON[restapi.PatchMemoryRequest](),
			Responses: []Response{
				OK[restapi.MemoryResponse]("The changed memory."),
			}},
		{Method: http.MethodPost, Path: "/v1/memories/{id}/supersede", ID: "supersedeMemory", Tag: "memories",
			Summary: "Replaces a memory with a new version; the old one keeps valid_to and superseded_by.",
			Params:  []Param{idParam("memory")},
			Request: JSON[restapi.MemoryRequest](),
			Responses: []Response{
				Created[restapi.MemoryResponse]("The new version, with the one it superseded."),
			}},
		{Method: http.MethodPost, Path: "/v1/forget", ID: "forget", Tag: "memories",
			Summary: "Removes memories by id, by filter, or a whole project, from the store and its indexes. Audited.",
			Request: JSON[restapi.ForgetRequest](),
			Responses: []Response{
				OK[restapi.ForgetResponse]("What was removed."),
			}},

		{Method: http.MethodPost, Path: "/v1/search", ID: "search", Tag: "search",
			Summary: "BM25 full-text search over observations, summaries and prompts, with filters and paging.",
			Request: JSON[restapi.SearchRequest](),
			Responses: []Response{
				OK[restapi.SearchResponse]("A page of hits; an empty list when nothing matches."),
			}},
		{Method: http.MethodPost, Path: "/v1/context", ID: "getContext", Tag: "search",
			Summary: "A context pack in claude-mem's format within a token budget; with prompt, the memories relevant to it.",
			Request: JSON[restapi.ContextRequest](),
			Responses: []Response{
				OK[restapi.ContextResponse]("The pack."),
			}},

		{Method: http.MethodGet, Path: "/v1/jobs/{id}", ID: "getJob", Tag: "jobs",
			Summary: "A generation job's status and history.",
			Params:  []Param{{Name: "id", In: "path", Type: "string", Description: "The job's id."}},
			Responses: []Response{
				OK[restapi.JobResponse]("The job."),
			}},
		{Method: http.MethodPost, Path: "/v1/jobs/{id}/retry", ID: "retryJob", Tag: "jobs",
			Summary: "Queues a failed job again with its attempts reset.",
			Params:  []Param{{Name: "id", In: "path", Type: "string", Description: "The job's id."}},
			Responses: []Response{
				OK[restapi.JobResponse]("The job, queued."),
				{Status: http.StatusConflict, Description: "The job has not failed.", Body: JSON[httpapi.ErrorBody]()},
			}},

		{Method: http.MethodPost, Path: "/v1/export", ID: "export", Tag: "data",
			Summary: "Streams the team's memory as versioned JSON lines (docs/api.md#export-and-import).",
			Responses: []Response{{Status: http.StatusOK, Description: "The export.",
				Body: jsonLines("JSON lines: a header, the team's rows, and an end line with counts.", exportLine())}}},
		{Method: http.MethodPost, Path: "/v1/import", ID: "import", Tag: "data",
			Summary: "Imports an export, or the MCP memory server's memory.jsonl. Idempotent.",
			Params: []Param{
				{Name: "format", In: "query", Type: "string", Enum: []string{exchange.FormatClaudeMem, exchange.FormatMCPMemory},
					Description: "Default " + exchange.FormatClaudeMem + "."},
				{Name: "project", In: "query", Type: "string", Description: "For mcp-memory: the project the entities go to."},
			},
			Request: jsonLines("JSON lines: an export (format claude-mem-jsonl) or a memory.jsonl (format mcp-memory).",
				&jsonschema.Schema{AnyOf: []*jsonschema.Schema{exportLine(), mcpMemoryLine()}}),
			Responses: []Response{
				OK[exchange.ImportResponse]("What was added and what existed."),
			}},
		{Method: http.MethodPost, Path: "/v1/reindex", ID: "reindex", Tag: "data",
			Summary:   "Rebuilds the full-text indexes from the memory tables.",
			Responses: []Response{OK[restapi.ReindexResponse]("The indexes rebuilt.")}},

		{Method: http.MethodGet, Path: "/v1/admin/teams", ID: "listTeams", Tag: "admin",
			Summary:   "Teams: every team for a * key, else the caller's.",
			Responses: []Response{OK[access.TeamList]("The teams.")}},
		{Method: http.MethodPost, Path: "/v1/admin/teams", ID: "createTeam", Tag: "admin",
			Summary:   "Creates a team (* scope).",
			Request:   JSON[access.CreateTeamRequest](),
			Responses: []Response{Created[access.Team]("The team.")}},
		{Method: http.MethodGet, Path: "/v1/admin/projects", ID: "adminListProjects", Tag: "admin",
			Summary:   "A team's projects.",
			Params:    []Param{teamParam},
			Responses: []Response{OK[access.ProjectList]("The projects.")}},
		{Method: http.MethodPost, Path: "/v1/admin/projects", ID: "adminCreateProject", Tag: "admin",
			Summary: "Creates a project in a team.",
			Request: JSON[access.CreateProjectRequest](),
			Responses: []Response{
				Created[access.Project]("The project was created."),
				OK[access.Project]("The team already had it."),
			}},
		{Method: http.MethodGet, Path: "/v1/admin/api-keys", ID: "listAPIKeys", Tag: "admin",
			Summary:   "A team's API keys (never their secrets).",
			Params:    []Param{teamParam},
			Responses: []Response{OK[access.KeyList]("The keys.")}},
		{Method: http.MethodPost, Path: "/v1/admin/api-keys", ID: "createAPIKey", Tag: "admin",
			Summary:   "Creates an API key; its secret is in this answer only.",
			Request:   JSON[access.CreateKeyRequest](),
			Responses: []Response{Created[access.CreatedKey]("The key and its secret.")}},
		{Method: http.MethodPost, Path: "/v1/admin/api-keys/{id}/revoke", ID: "revokeAPIKey", Tag: "admin",
			Summary:   "Revokes a key; it stops working within a second.",
			Params:    []Param{{Name: "id", In: "path", Type: "string", Description: "The key's id."}},
			Responses: []Response{OK[access.Key]("The revoked key.")}},
		{Method: http.MethodGet, Path: "/v1/audit", ID: "listAudit", Tag: "admin",
			Summary: "The audit log, newest first, with filters and paging.",
			Params: []Param{
				{Name: "action", In: "query", Type: "string", Description: "An action, e.g. search or memory.read."},
				{Name: "key", In: "query", Type: "string", Description: "An API key id."},
				{Name: "actor", In: "query", Type: "string"},
				{Name: "since", In: "query", Type: "string", Description: "An RFC 3339 time or epoch milliseconds."},
				{Name: "until", In: "query", Type: "string", Description: "An RFC 3339 time or epoch milliseconds."},
				{Name: "before", In: "query", Type: "integer", Description: "next_before of the previous page."},
				{Name: "limit", In: "query", Type: "integer"},
				teamParam,
			},
			Responses: []Response{OK[access.AuditPage]("A page of entries.")}},

		{Method: http.MethodPost, Path: "/v1/mcp", ID: "mcp", Tag: "mcp",
			Summary:     "MCP over streamable HTTP, stateless: one JSON-RPC message per POST.",
			Description: "Use an MCP client (docs/mcp.md). Tools: memory_add, memory_search, memory_context, memory_forget, memory_list_recent, memory_record_decision, search, timeline, get_observations.",
			Request:     &Body{Schema: anyObject("A JSON-RPC 2.0 message.")},
			Responses: []Response{
				{Status: http.StatusOK, Description: "The JSON-RPC response, as JSON or as a server-sent event stream.",
					Body: &Body{Schema: anyObject("A JSON-RPC 2.0 response.")},
					Alt:  &Body{ContentType: "text/event-stream", Schema: &jsonschema.Schema{Type: "string"}}},
				{Status: http.StatusAccepted, Description: "A notification was accepted."},
			}},
	}
}
