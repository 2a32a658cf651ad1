// Package openapi describes the server's REST v1 API as an OpenAPI 3.1
// document, generated from the Go types its handlers encode and decode.
//
// Operations (operations.go) is the one table that names, for every route,
// the request and response types of its handler; Build reflects on those
// types (schema.go), so a field added to a response type is in the
// document the moment it is compiled. The server serves the document at
// GET /v1/openapi.json, `make generate` writes it to docs/openapi.json,
// and tests check that the committed copy is current, that the table and
// the router hold the same routes, and that real responses of every route
// validate against the document.
package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
)

// Version is the document's info.version: the version of the API it
// describes, not of the binary, so that the committed document does not
// change with every build. Raise the minor for additions, and the major
// (with a /v2) for breaking changes.
const Version = "1.0.0"

// Path is where the server serves the document.
const Path = "/v1/openapi.json"

// Operation is one route of the API.
type Operation struct {
	Method string
	// Path is the chi pattern, which is also OpenAPI's: /v1/jobs/{id}.
	Path    string
	ID      string // operationId
	Tag     string
	Summary string
	// Description is longer prose; optional.
	Description string
	Params      []Param
	// Request is the body; nil when there is none.
	Request *Body
	// Responses are the documented statuses. Every operation also gets the
	// error responses that fit it (errorStatuses).
	Responses []Response
}

// Param is a path or query parameter.
type Param struct {
	Name string
	// In is "path" or "query".
	In          string
	Description string
	// Type is "string", "integer" or "boolean".
	Type     string
	Format   string
	Required bool
	Enum     []string
}

// Body is a request or response body.
type Body struct {
	// ContentType defaults to application/json.
	ContentType string
	// Type is the Go type encoded or decoded; ignored when Schema is set.
	Type reflect.Type
	// Schema describes a body that no single Go type does.
	Schema *jsonschema.Schema
	// Description says what the body is.
	Description string
}

// Response is one documented status.
type Response struct {
	Status      int
	Description string
	// Body is nil for a response without one.
	Body *Body
	// Alt is the same answer in another content type.
	Alt *Body
}

// JSON is the body of type T in JSON.
func JSON[T any]() *Body { return &Body{Type: reflect.TypeFor[T]()} }

// OK is a 200 response with a JSON body of type T.
func OK[T any](description string) Response {
	return Response{Status: http.StatusOK, Description: description, Body: JSON[T]()}
}

// Created is a 201 response with a JSON body of type T.
func Created[T any](description string) Response {
	return Response{Status: http.StatusCreated, Description: description, Body: JSON[T]()}
}

// Document is the document of Operations under access.Routes, built once.
func Document() ([]byte, error) {
	docOnce.Do(func() { doc, docErr = Build(Operations(), access.NewPolicy(access.Routes...)) })
	return doc, docErr
}

var (
	docOnce sync.Once
	doc     []byte
	docErr  error
)

// Handler serves the document.
func Handler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := Document()
		if err != nil {
			httpapi.WriteErr(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}
}

// Types are the named struct types of this module that the bodies of ops
// reach, embedded ones included: the types whose doc comments describe
// the document (host/openapi/gendesc).
func Types(ops []Operation) ([]reflect.Type, error) {
	sc, err := collect(ops)
	if err != nil {
		return nil, err
	}
	return slices.Clone(sc.order), nil
}

// collect registers every type the bodies of ops reach.
func collect(ops []Operation) (*schemas, error) {
	sc := newSchemas()
	for _, op := range ops {
		if op.Request != nil && op.Request.Type != nil {
			if err := sc.add(op.Request.Type, true); err != nil {
				return nil, fmt.Errorf("openapi: %s %s: %w", op.Method, op.Path, err)
			}
		}
		for _, r := range op.Responses {
			for _, b := range []*Body{r.Body, r.Alt} {
				if b != nil && b.Type != nil {
					if err := sc.add(b.Type, false); err != nil {
						return nil, fmt.Errorf("openapi: %s %s: %w", op.Method, op.Path, err)
					}
				}
			}
		}
	}
	if err := sc.add(reflect.TypeFor[httpapi.ErrorBody](), false); err != nil {
		return nil, err
	}
	return sc, nil
}

// Build renders the document of ops, with each operation's security taken
// from policy (access.Routes): the document says which scope each route
// needs. Its output is deterministic.
func Build(ops []Operation, policy *access.Policy) ([]byte, error) {
	sc, err := collect(ops)
	if err != nil {
		return nil, err
	}
	if err := sc.assignNames(componentNames); err != nil {
		return nil, err
	}

	paths := map[string]map[string]any{}
	seen := map[string]bool{}
	for _, op := range ops {
		key := op.Method + " " + op.Path
		if seen[key] || seen[op.ID] {
			return nil, fmt.Errorf("openapi: %s (%s) is described twice", key, op.ID)
		}
		seen[key], seen[op.ID] = true, true
		rule, declared := policy.Rule(op.Method, op.Path)
		if !declared {
			return nil, fmt.Errorf("openapi: %s has no scope in access.Routes: declare it there first", key)
		}
		o, err := sc.operation(op, rule)
		if err != nil {
			return nil, err
		}
		if paths[op.Path] == nil {
			paths[op.Path] = map[string]any{}
		}
		paths[op.Path][strings.ToLower(op.Method)] = o
	}
	comps, err := sc.components()
	if err != nil {
		return nil, err
	}
	doc := document{
		OpenAPI: "3.1.0",
		Info: info{
			Title:       "claude-mem server",
			Version:     Version,
			Description: apiDescription,
			License:     license{Name: "Apache-2.0", Identifier: "Apache-2.0"},
		},
		Servers: []server{{
			URL:         "http://127.0.0.1:{port}",
			Description: "A local server. Its default port is 37700 plus the user's uid modulo 100 (claude-mem server status shows it).",
			Variables:   map[string]variable{"port": {Default: "37700"}},
		}},
		Paths: paths,
		Components: components{
			Schemas: comps,
			SecuritySchemes: map[string]securityScheme{
				"bearer": {Type: "http", Scheme: "bearer", Description: "An API key (cm_...) as a bearer token."},
				"apiKey": {Type: "apiKey", In: "header", Name: "X-Api-Key", Description: "An API key (cm_...) in the X-Api-Key header."},
			},
		},
		Tags: tags(ops),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("openapi: encode: %w", err)
	}
	return buf.Bytes(), nil
}

const apiDescription = "Persistent memory for AI coding agents. Agents write what happens in their " +
	"sessions (prompts, tool uses, answers); the server turns it into observations and summaries, " +
	"and gives memory back through search, context packs and MCP (/v1/mcp). " +
	"Errors are JSON: {\"error\", \"code\", \"request_id\"}. " +
	"In local mode (the default) loopback callers need no key; with auth.mode=api-key every route " +
	"but /healthz and /v1/openapi.json needs a key with the scope its x-scope names."

func (s *schemas) operation(op Operation, rule access.Rule) (map[string]any, error) {
	o := map[string]any{
		"operationId": op.ID,
		"summary":     op.Summary,
		"tags":        []string{op.Tag},
		"x-scope":     rule.Scope,
	}
	if op.Description != "" {
		o["description"] = op.Description
	}
	switch rule.Scope {
	case access.Public:
		o["security"] = []any{}
	default:
		o["security"] = []map[string][]string{{"bearer": {}}, {"apiKey": {}}}
	}
	var params []map[string]any
	for _, p := range op.Params {
		sch := map[string]any{"type": p.Type}
		if p.Format != "" {
			sch["format"] = p.Format
		}
		if len(p.Enum) > 0 {
			sch["enum"] = p.Enum
		}
		pm := map[string]any{"name": p.Name, "in": p.In, "schema": sch}
		if p.Description != "" {
			pm["description"] = p.Description
		}
		if p.Required || p.In == "path" {
			pm["required"] = true
		}
		params = append(params, pm)
	}
	for _, name := range pathParams(op.Path) {
		if !slices.ContainsFunc(op.Params, func(p Param) bool { return p.In == "path" && p.Name == name }) {
			return nil, fmt.Errorf("openapi: %s %s: path parameter {%s} is not described", op.Method, op.Path, name)
		}
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.Request != nil {
		content, err := s.content(op.Request)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s %s: %w", op.Method, op.Path, err)
		}
		rb := map[string]any{"required": true, "content": content}
		if op.Request.Description != "" {
			rb["description"] = op.Request.Description
		}
		o["requestBody"] = rb
	}
	responses := map[string]any{}
	for _, r := range op.Responses {
		resp := map[string]any{"description": r.Description}
		for _, b := range []*Body{r.Body, r.Alt} {
			if b == nil {
				continue
			}
			content, err := s.content(b)
			if err != nil {
				return nil, fmt.Errorf("openapi: %s %s: %w", op.Method, op.Path, err)
			}
			if resp["content"] == nil {
				resp["content"] = content
				continue
			}
			maps.Copy(resp["content"].(map[string]any), content)
		}
		responses[strconv.Itoa(r.Status)] = resp
	}
	for _, st := range errorStatuses(op, rule) {
		if _, ok := responses[strconv.Itoa(st)]; ok {
			continue
		}
		responses[strconv.Itoa(st)] = map[string]any{
			"description": errorDescriptions[st],
			"content":     map[string]any{"application/json": map[string]any{"schema": map[string]string{"$ref": componentRef + "ErrorBody"}}},
		}
	}
	o["responses"] = responses
	return o, nil
}

func (s *schemas) content(b *Body) (map[string]any, error) {
	ct := b.ContentType
	if ct == "" {
		ct = "application/json"
	}
	sch := b.Schema
	if sch == nil {
		var err error
		if sch, err = s.schemaOf(b.Type); err != nil {
			return nil, err
		}
	}
	m := map[string]any{"schema": sch}
	return map[string]any{ct: m}, nil
}

var errorDescriptions = map[int]string{
	http.StatusBadRequest:            "The request is malformed: invalid JSON, an unknown field, a wrong type or a bad value. Nothing was stored.",
	http.StatusUnauthorized:          "No credential, or one the server does not accept.",
	http.StatusForbidden:             "The key lacks the scope the route needs, or is bound to another project.",
	http.StatusNotFound:              "No such row for the caller's team and project.",
	http.StatusConflict:              "The row's state does not allow the change.",
	http.StatusRequestEntityTooLarge: "The body is larger than server.max_body_bytes, or a batch has too many items.",
	http.StatusTooManyRequests:       "The key's rate limit is exhausted: retry after Retry-After seconds.",
	http.StatusInternalServerError:   "The server failed; the request ID is in its log.",
	http.StatusServiceUnavailable:    "A plugin the route needs is down or restarting: retry.",
}

// errorStatuses are the error responses op can give, from its rule and
// its shape.
func errorStatuses(op Operation, rule access.Rule) []int {
	out := []int{http.StatusInternalServerError, http.StatusServiceUnavailable}
	if rule.Scope != access.Public {
		out = append(out, http.StatusUnauthorized, http.StatusTooManyRequests)
	}
	if rule.Scope != access.Public && rule.Scope != access.Authenticated {
		out = append(out, http.StatusForbidden)
	}
	if op.Request != nil || len(op.Params) > 0 {
		out = append(out, http.StatusBadRequest)
	}
	if op.Request != nil {
		out = append(out, http.StatusRequestEntityTooLarge)
	}
	if len(pathParams(op.Path)) > 0 {
		out = append(out, http.StatusNotFound)
	}
	slices.Sort(out)
	return out
}

func pathParams(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, seg[1:len(seg)-1])
		}
	}
	return out
}

func tags(ops []Operation) []tag {
	var out []tag
	for _, op := range ops {
		if !slices.ContainsFunc(out, func(t tag) bool { return t.Name == op.Tag }) {
			out = append(out, tag{Name: op.Tag, Description: tagDescriptions[op.Tag]})
		}
	}
	return out
}

// The document's top level, in OpenAPI's order.
type document struct {
	OpenAPI    string                    `json:"openapi"`
	Info       info                      `json:"info"`
	Servers    []server                  `json:"servers"`
	Tags       []tag                     `json:"tags"`
	Paths      map[string]map[string]any `json:"paths"`
	Components components                `json:"components"`
}

type info struct {
	Title       string  `json:"title"`
	Version     string  `json:"version"`
	Description string  `json:"description"`
	License     license `json:"license"`
}

type license struct {
	Name       string `json:"name"`
	Identifier string `json:"identifier"`
}

type server struct {
	URL         string              `json:"url"`
	Description string              `json:"description"`
	Variables   map[string]variable `json:"variables,omitempty"`
}

type variable struct {
	Default string `json:"default"`
}

type tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

type components struct {
	Schemas         map[string]*jsonschema.Schema `json:"schemas"`
	SecuritySchemes map[string]securityScheme     `json:"securitySchemes"`
}

type securityScheme struct {
	Type        string `json:"type"`
	Scheme      string `json:"scheme,omitempty"`
	In          string `json:"in,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description"`
}
