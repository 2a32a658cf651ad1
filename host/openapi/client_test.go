package openapi_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/claude-mem/claude-mem-server/host/openapi"
	"github.com/claude-mem/claude-mem-server/sdk/client"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// TestClientTypesMatchTheDocument holds sdk/client's wire types, which
// third parties compile against and which cannot import the server's, to
// the document's components: the same properties, the same JSON types and,
// for answers, the same required fields. sdk/client's own tests decode
// real answers strictly; this catches a field no test answer happens to
// carry.
func TestClientTypesMatchTheDocument(t *testing.T) {
	t.Parallel()
	raw, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	answers := map[string]any{
		"Health": client.Health{}, "Info": client.Info{}, "PluginStatus": client.PluginStatus{}, "QueueCounts": client.QueueCounts{},
		"BudgetStatus": client.BudgetStatus{}, "DayUsage": client.DayUsage{}, "ErrorBody": errorBody{},
		"Project": client.Project{}, "ProjectList": client.ProjectList{}, "ProjectDetail": client.ProjectDetail{}, "ProjectCreated": client.ProjectCreated{},
		"AdminProject": client.Project{}, "AdminProjectList": client.ProjectList{},
		"SessionResponse": client.SessionResponse{}, "Session": client.Session{}, "SessionDetail": client.SessionDetail{},
		"Summary":     client.Summary{},
		"EventResult": client.EventResult{}, "BatchResponse": client.BatchResponse{}, "JobRef": client.JobRef{},
		"EventResponse": client.EventDetail{}, "StoredEvent": client.StoredEvent{},
		"MemoryResponse": client.MemoryResponse{}, "Memory": client.Memory{}, "MemoryVersion": client.Version{},
		"SearchResult": client.SearchResult{}, "SearchHit": client.Hit{}, "SearchPrompt": client.SearchPrompt{},
		"ContextResponse": client.ContextPack{}, "ForgetResponse": client.ForgetResponse{},
		"Job": client.Job{}, "JobEvent": client.JobEvent{}, "JobResponse": client.JobResponse{},
		"ImportResponse": client.ImportResponse{}, "ImportCounts": client.ImportCounts{}, "ReindexResponse": client.ReindexResponse{},
		"Team": client.Team{}, "TeamList": client.TeamList{}, "Key": client.Key{}, "KeyList": client.KeyList{}, "CreatedKey": client.CreatedKey{},
		"AuditEntry": client.AuditEntry{}, "AuditPage": client.AuditPage{},
	}
	requests := map[string]any{
		"CreateProjectRequest": client.CreateProjectRequest{}, "StartSessionRequest": client.StartSessionRequest{},
		"EndSessionRequest": client.EndSessionRequest{}, "AgentEvent": event.AgentEvent{},
		"MemoryRequest": client.CreateMemoryRequest{}, "PatchMemoryRequest": client.UpdateMemoryRequest{},
		"SearchRequest": client.SearchRequest{}, "ContextRequest": client.ContextRequest{},
		"ForgetRequest": client.ForgetRequest{}, "ForgetFilter": client.ForgetFilter{},
		"CreateTeamRequest": client.CreateTeamRequest{}, "AdminCreateProjectRequest": client.CreateAdminProjectRequest{},
		"CreateKeyRequest": client.CreateKeyRequest{},
	}
	for name := range doc.Components.Schemas {
		if answers[name] == nil && requests[name] == nil {
			t.Errorf("component %s has no sdk/client type in this test: add the client's type for it", name)
		}
	}
	check := func(name string, v any, answer bool) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, ok := doc.Components.Schemas[name]
			if !ok {
				t.Fatalf("the document has no component %s", name)
			}
			got := clientSchema(t, reflect.TypeOf(v))
			for _, d := range diffSchemas(name, resolve(doc.Components.Schemas, want), got, doc.Components.Schemas, answer) {
				t.Errorf("sdk/client.%s: %s", reflect.TypeOf(v).Name(), d)
			}
		})
	}
	for name, v := range answers {
		check(name, v, true)
	}
	for name, v := range requests {
		check(name, v, false)
	}
}

// errorBody stands for client.Error's JSON, which the client reads into
// Error's fields.
type errorBody struct {
	Error     string `json:"error"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
}

// clientSchema infers the schema of a client type with the same rules as
// the document, fully inlined, as generic JSON.
func clientSchema(t *testing.T, typ reflect.Type) map[string]any {
	t.Helper()
	s, err := jsonschema.ForType(typ, &jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[time.Time]():       {Type: "string"},
		reflect.TypeFor[json.RawMessage](): {Description: "any"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// resolve follows a $ref, and unwraps the document's nullable reference
// ({"anyOf": [{"$ref"}, {"type": "null"}]}) into the referenced schema
// with "null" added to its types, which is how the client's inference
// writes a pointer.
func resolve(all map[string]map[string]any, s map[string]any) map[string]any {
	if ref, ok := s["$ref"].(string); ok {
		return resolve(all, all[strings.TrimPrefix(ref, "#/components/schemas/")])
	}
	if anyOf, ok := s["anyOf"].([]any); ok && len(anyOf) == 2 {
		inner, _ := anyOf[0].(map[string]any)
		null, _ := anyOf[1].(map[string]any)
		if inner != nil && null != nil && null["type"] == "null" {
			out := map[string]any{}
			for k, v := range resolve(all, inner) {
				out[k] = v
			}
			out["type"] = append(types(out), "null")
			return out
		}
	}
	return s
}

func types(s map[string]any) []any {
	switch v := s["type"].(type) {
	case string:
		return []any{v}
	case []any:
		return slices.Clone(v)
	}
	return nil
}

func strs(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
	}
	sort.Strings(out)
	return out
}

// diffSchemas lists where got (the client) and want (the document) differ.
func diffSchemas(path string, want, got map[string]any, all map[string]map[string]any, answer bool) []string {
	var out []string
	if w, g := strs(types(want)), strs(types(got)); !slices.Equal(w, g) {
		out = append(out, fmt.Sprintf("%s: type %v, the document says %v", path, g, w))
	}
	if answer {
		if w, g := strs(want["required"]), strs(got["required"]); !slices.Equal(w, g) {
			out = append(out, fmt.Sprintf("%s: required %v, the document says %v", path, g, w))
		}
	}
	wp, _ := want["properties"].(map[string]any)
	gp, _ := got["properties"].(map[string]any)
	for name, ws := range wp {
		gs, ok := gp[name]
		if !ok {
			out = append(out, fmt.Sprintf("%s: no field for property %q", path, name))
			continue
		}
		out = append(out, diffSchemas(path+"."+name, resolve(all, ws.(map[string]any)), gs.(map[string]any), all, answer)...)
	}
	for name := range gp {
		if _, ok := wp[name]; !ok {
			out = append(out, fmt.Sprintf("%s: field %q is not in the document", path, name))
		}
	}
	for _, key := range []string{"items", "additionalProperties"} {
		ws, wok := want[key].(map[string]any)
		gs, gok := got[key].(map[string]any)
		if wok && gok {
			out = append(out, diffSchemas(path+"."+key, resolve(all, ws), gs, all, answer)...)
		}
	}
	return out
}
