package client_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/sdk/client"
)

// routeMethods maps every REST route of the server to its client method.
// docs/client.md has the same table.
var routeMethods = map[string]string{
	"GET /healthz":                        "Health",
	"GET /v1/info":                        "Info",
	"GET /v1/openapi.json":                "OpenAPI",
	"GET /v1/projects":                    "ListProjects",
	"POST /v1/projects":                   "CreateProject",
	"GET /v1/projects/{id}":               "GetProject",
	"POST /v1/sessions/start":             "StartSession",
	"POST /v1/sessions/{id}/end":          "EndSession",
	"GET /v1/sessions/{id}":               "GetSession",
	"POST /v1/events":                     "PostEvent",
	"POST /v1/events/batch":               "PostEventBatch",
	"GET /v1/events/{id}":                 "GetEvent",
	"POST /v1/hooks/{adapter}/{event}":    "PostHook",
	"POST /v1/memories":                   "CreateMemory",
	"GET /v1/memories/{id}":               "GetMemory",
	"PATCH /v1/memories/{id}":             "UpdateMemory",
	"POST /v1/memories/{id}/supersede":    "SupersedeMemory",
	"POST /v1/forget":                     "Forget",
	"POST /v1/search":                     "Search",
	"POST /v1/context":                    "Context",
	"GET /v1/audit":                       "Audit",
	"POST /v1/export":                     "Export",
	"POST /v1/import":                     "Import",
	"POST /v1/reindex":                    "Reindex",
	"GET /v1/jobs/{id}":                   "GetJob",
	"POST /v1/jobs/{id}/retry":            "RetryJob",
	"GET /v1/admin/teams":                 "ListTeams",
	"POST /v1/admin/teams":                "CreateTeam",
	"GET /v1/admin/projects":              "ListAdminProjects",
	"POST /v1/admin/projects":             "CreateAdminProject",
	"GET /v1/admin/api-keys":              "ListAPIKeys",
	"POST /v1/admin/api-keys":             "CreateAPIKey",
	"POST /v1/admin/api-keys/{id}/revoke": "RevokeAPIKey",
}

// notRoutes are the exported methods of Client that call no route.
var notRoutes = map[string]bool{"BaseURL": true}

// TestEveryRouteHasAMethod walks the server's route policy: every v1 route
// (but MCP, which is not REST) needs a client method, and every method a
// route.
func TestEveryRouteHasAMethod(t *testing.T) {
	t.Parallel()
	served := map[string]bool{}
	for _, r := range access.Routes {
		key := r.Method + " " + r.Pattern
		if r.Pattern != "/healthz" && (!strings.HasPrefix(r.Pattern, "/v1/") || r.Pattern == "/v1/mcp") {
			continue
		}
		served[key] = true
		if _, ok := routeMethods[key]; !ok {
			t.Errorf("route %s has no client method: add one, and a row to routeMethods and docs/client.md", key)
		}
	}
	typ := reflect.TypeFor[*client.Client]()
	methods := map[string]bool{}
	for key, name := range routeMethods {
		if !served[key] {
			t.Errorf("routeMethods has %s, which the server does not declare in access.Routes", key)
		}
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("routeMethods maps %s to %s, which *client.Client lacks", key, name)
		}
		methods[name] = true
	}
	for m := range typ.Methods() {
		if !methods[m.Name] && !notRoutes[m.Name] {
			t.Errorf("(*client.Client).%s calls no route of routeMethods", m.Name)
		}
	}
}
