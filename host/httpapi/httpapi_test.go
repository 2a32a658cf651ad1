package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
)

type thing struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// newServer serves the host router plus test routes on a real listener.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	r := httpapi.NewRouter(httpapi.Deps{
		Info:         func(context.Context) httpapi.Info { return httpapi.Info{Status: "ok", Runtime: "test"} },
		MaxBodyBytes: 64,
	})
	r.Post("/decode", func(w http.ResponseWriter, r *http.Request) {
		var v thing
		if httpapi.DecodeJSON(w, r, &v) {
			httpapi.WriteJSON(w, http.StatusOK, v)
		}
	})
	r.Get("/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		if id, ok := httpapi.PathID(w, r, "thing"); ok {
			httpapi.WriteJSON(w, http.StatusOK, thing{Name: "t", Count: int(id)})
		}
	})
	r.Get("/down", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteErr(w, r, fmt.Errorf("queue plugin queue-sqlite is restarting: %w", supervisor.ErrUnavailable))
	})
	r.Get("/broken", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteErr(w, r, errors.New("secret detail: disk on fire"))
	})
	r.Get("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func TestErrorsAreJSON(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := map[string]struct {
		method, path, body string
		status             int
		code, mention      string
	}{
		"malformed":        {http.MethodPost, "/decode", `{"name":`, http.StatusBadRequest, httpapi.CodeInvalidJSON, "malformed"},
		"syntax":           {http.MethodPost, "/decode", `{"name" "x"}`, http.StatusBadRequest, httpapi.CodeInvalidJSON, "byte"},
		"unknown field":    {http.MethodPost, "/decode", `{"nam":"x"}`, http.StatusBadRequest, httpapi.CodeInvalidJSON, `"nam"`},
		"wrong type":       {http.MethodPost, "/decode", `{"count":"many"}`, http.StatusBadRequest, httpapi.CodeInvalidJSON, "count"},
		"empty":            {http.MethodPost, "/decode", ``, http.StatusBadRequest, httpapi.CodeInvalidJSON, "empty"},
		"trailing":         {http.MethodPost, "/decode", `{"name":"a"} {"name":"b"}`, http.StatusBadRequest, httpapi.CodeInvalidJSON, "after"},
		"oversize":         {http.MethodPost, "/decode", `{"name":"` + strings.Repeat("x", 100) + `"}`, http.StatusRequestEntityTooLarge, httpapi.CodeBodyTooLarge, "exceeds"},
		"plugin down":      {http.MethodGet, "/down", ``, http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable, "retry"},
		"internal":         {http.MethodGet, "/broken", ``, http.StatusInternalServerError, httpapi.CodeInternal, "server log"},
		"panic":            {http.MethodGet, "/panic", ``, http.StatusInternalServerError, httpapi.CodeInternal, "server log"},
		"no route":         {http.MethodGet, "/nope", ``, http.StatusNotFound, httpapi.CodeNotFound, "/nope"},
		"wrong method":     {http.MethodDelete, "/healthz", ``, http.StatusMethodNotAllowed, httpapi.CodeMethodNotAllowed, "DELETE"},
		"chunked oversize": {http.MethodPost, "/decode", `{"name":"` + strings.Repeat("y", 200) + `"}`, http.StatusRequestEntityTooLarge, httpapi.CodeBodyTooLarge, "exceeds"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader = strings.NewReader(tc.body)
			if name == "chunked oversize" {
				body = io.MultiReader(strings.NewReader(tc.body)) // unknown length: no Content-Length
			}
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var e httpapi.ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("body is not a JSON error: %v", err)
			}
			if resp.StatusCode != tc.status || e.Code != tc.code || !strings.Contains(e.Error, tc.mention) {
				t.Errorf("got %d %+v, want %d %s mentioning %q", resp.StatusCode, e, tc.status, tc.code, tc.mention)
			}
			if e.RequestID == "" || resp.Header.Get("X-Request-Id") != e.RequestID {
				t.Errorf("request id %q, header %q", e.RequestID, resp.Header.Get("X-Request-Id"))
			}
			if strings.Contains(e.Error, "disk on fire") || strings.Contains(e.Error, "boom") {
				t.Errorf("internal detail leaked to the client: %q", e.Error)
			}
		})
	}
}

func TestDecodeAcceptsGoodJSON(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	resp, err := http.Post(srv.URL+"/decode", "application/json", strings.NewReader(`{"name":"a","count":2}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got thing
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK || got != (thing{"a", 2}) {
		t.Fatalf("got %d %+v %v", resp.StatusCode, got, err)
	}
}

func TestPathID(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		id     string
		status int
	}{
		{"12", http.StatusOK},
		{"0", http.StatusBadRequest},
		{"-3", http.StatusBadRequest},
		{"x", http.StatusBadRequest},
		{"99999999999999999999", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			resp, err := http.Get(srv.URL + "/things/" + tt.id)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == http.StatusOK {
				var v thing
				if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Count != 12 {
					t.Fatalf("decoded %+v, %v", v, err)
				}
				return
			}
			var e httpapi.ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Code != httpapi.CodeBadRequest || !strings.Contains(e.Error, "thing id") {
				t.Fatalf("error body %+v, %v", e, err)
			}
		})
	}
}
