package openapi_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/openapi"
	"github.com/claude-mem/claude-mem-server/host/openapi/internal/describe"
	"github.com/claude-mem/claude-mem-server/host/restapi"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// TestCommittedDocumentIsCurrent keeps docs/openapi.json equal to what the
// code generates (CI also regenerates it and fails on a diff).
func TestCommittedDocumentIsCurrent(t *testing.T) {
	t.Parallel()
	got, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatalf("%v: run `make generate`", err)
	}
	if !bytes.Equal(got, want) {
		t.Error("docs/openapi.json is not what the code generates: run `make generate` and commit docs/openapi.json")
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	t.Parallel()
	policy := access.NewPolicy(access.Routes...)
	first, err := openapi.Build(openapi.Operations(), policy)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := openapi.Build(openapi.Operations(), policy)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatal("two builds of the document differ")
		}
	}
}

// TestBuildRefusesMistakes: the generator fails, naming the fix, instead
// of publishing a document that lies.
func TestBuildRefusesMistakes(t *testing.T) {
	t.Parallel()
	policy := access.NewPolicy(access.Rule{Method: http.MethodGet, Pattern: "/v1/things/{id}", Scope: auth.ScopeRead},
		access.Rule{Method: http.MethodGet, Pattern: "/v1/other", Scope: auth.ScopeRead})
	idParam := openapi.Param{Name: "id", In: "path", Type: "integer"}
	tests := []struct {
		name string
		ops  []openapi.Operation
		want string
	}{
		{"route without a scope", []openapi.Operation{{Method: http.MethodGet, Path: "/v1/undeclared", ID: "u", Tag: "t"}},
			"no scope in access.Routes"},
		{"path parameter not described", []openapi.Operation{{Method: http.MethodGet, Path: "/v1/things/{id}", ID: "g", Tag: "t"}},
			"path parameter {id} is not described"},
		{"operation twice", []openapi.Operation{
			{Method: http.MethodGet, Path: "/v1/other", ID: "o", Tag: "t"},
			{Method: http.MethodGet, Path: "/v1/other", ID: "o2", Tag: "t"}}, "described twice"},
		{"one id for two operations", []openapi.Operation{
			{Method: http.MethodGet, Path: "/v1/other", ID: "same", Tag: "t"},
			{Method: http.MethodGet, Path: "/v1/things/{id}", ID: "same", Tag: "t", Params: []openapi.Param{idParam}}}, "described twice"},
		{"a type that marshals itself", []openapi.Operation{{Method: http.MethodGet, Path: "/v1/other", ID: "o", Tag: "t",
			Responses: []openapi.Response{openapi.OK[selfMarshaler]("x")}}}, "marshals itself"},
		{"two components of one name", []openapi.Operation{{Method: http.MethodGet, Path: "/v1/other", ID: "o", Tag: "t",
			Responses: []openapi.Response{openapi.OK[restapi.Project]("x"), {Status: 201, Description: "y", Body: openapi.JSON[dupProject]()}}}},
			"both component"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := openapi.Build(tt.ops, policy)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

type selfMarshaler struct{}

func (selfMarshaler) MarshalJSON() ([]byte, error) { return []byte(`1`), nil }

// dupProject reaches a second component named Project.
type dupProject struct {
	Wrapped Project `json:"p"`
}

// Project collides with restapi.Project's component name.
type Project struct {
	Name string `json:"name"`
}

// TestValidationCatchesDrift proves the validation test can fail: replies
// that differ from the document in a field's type, an undeclared field or
// a missing required field are refused by the validator with the real
// document.
func TestValidationCatchesDrift(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"as the server answers", `{"projects":[{"id":1,"team_id":"t","name":"p","created_at":"2026-11-26T10:00:00Z"}]}`, true},
		{"a wrong type", `{"projects":[{"id":"1","team_id":"t","name":"p","created_at":"2026-11-26T10:00:00Z"}]}`, false},
		{"an undeclared field", `{"projects":[],"total":0}`, false},
		{"a missing required field", `{"projects":[{"id":1,"team_id":"t","created_at":"2026-11-26T10:00:00Z"}]}`, false},
		{"null for a list that is never null", `{"projects":null}`, true}, // nil slices encode as null: the schema allows it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:37700/v1/projects", nil)
			req.Header.Set("Authorization", "Bearer cm_x")
			resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(tt.body)), Request: req}
			ok, verrs := v.ValidateHttpResponse(req, resp)
			if ok != tt.ok {
				t.Fatalf("valid = %v, want %v (%d errors)", ok, tt.ok, len(verrs))
			}
		})
	}
}

// TestRequestsNeedTheirRequiredFields: the document tells clients what a
// request must carry (requestRequired), and a validator holds them to it.
func TestRequestsNeedTheirRequiredFields(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	tests := []struct {
		path, body string
		ok         bool
	}{
		{"/v1/memories", `{"project":"p","text":"a memory"}`, true},
		{"/v1/memories", `{"project":"p"}`, false},
		{"/v1/events", `{"type":"user_prompt","content_session_id":"s1","text":"hi"}`, true},
		{"/v1/events", `{"type":"user_prompt","text":"hi"}`, false},
		{"/v1/admin/api-keys", `{"team":"t","name":"no scopes"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.body, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:37700"+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer cm_x")
			ok, verrs := v.ValidateHttpRequest(req)
			if ok != tt.ok {
				t.Fatalf("valid = %v, want %v (%d errors)", ok, tt.ok, len(verrs))
			}
		})
	}
}

// TestDescriptionsAreCurrent keeps descriptions_gen.go equal to what
// gendesc makes of the types' doc comments now.
func TestDescriptionsAreCurrent(t *testing.T) {
	t.Parallel()
	types, err := openapi.Types(openapi.Operations())
	if err != nil {
		t.Fatal(err)
	}
	want, err := describe.Generate("../..", "github.com/claude-mem/claude-mem-server", "openapi", types)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("descriptions_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("host/openapi/descriptions_gen.go is not what the types' doc comments make: run `make generate` and commit it")
	}
	// The document carries them.
	doc, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"description": "Memory is an observation with its place in its history."`, `"description": "team defaults to the caller's."`} {
		if !bytes.Contains(doc, []byte(s)) {
			t.Errorf("the document lacks %s", s)
		}
	}
}
