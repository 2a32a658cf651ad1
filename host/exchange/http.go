package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/hashicorp/go-hclog"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// ContentType is the media type of an export.
const ContentType = "application/x-ndjson"

// Mount adds POST /v1/export and POST /v1/import to r. Their scopes are
// declared in access.Routes: export needs admin (it is the whole team's
// memory), import memories:write (it only adds rows to the caller's team,
// as the write path does).
func Mount(r chi.Router, st *store.Store, log hclog.Logger) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	h := &handler{st: st, log: log}
	r.Post("/v1/export", h.export)
	r.Post("/v1/import", h.importer)
}

type handler struct {
	st  *store.Store
	log hclog.Logger
}

func (h *handler) export(w http.ResponseWriter, r *http.Request) {
	tm, err := access.TeamOf(r)
	if err != nil {
		httpapi.WriteError(w, r, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="claude-mem-export.jsonl"`)
	audit.Annotate(r.Context(), audit.Resource("team:"+tm))
	// Streamed: once the header line is out, a failure can only cut the
	// stream short; the missing end line tells the importer.
	if _, err := Export(r.Context(), h.st, tm, w, nil); err != nil && !errors.Is(err, context.Canceled) {
		h.log.Error("export failed", "team", tm, "request_id", httpapi.RequestID(r.Context()), "error", err)
	}
}

// ImportResponse is POST /v1/import's answer.
type ImportResponse struct {
	Report
	Added int64 `json:"added"`
}

func (h *handler) importer(w http.ResponseWriter, r *http.Request) {
	tm, err := access.TeamOf(r)
	if err != nil {
		httpapi.WriteError(w, r, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = FormatClaudeMem
	}
	if format != FormatClaudeMem && format != FormatMCPMemory {
		httpapi.WriteError(w, r, http.StatusBadRequest, httpapi.CodeBadRequest,
			fmt.Sprintf("format must be %s or %s", FormatClaudeMem, FormatMCPMemory))
		return
	}
	rep, err := Import(r.Context(), ImportOptions{Store: h.st, Team: tm, Format: format, Project: r.URL.Query().Get("project")}, r.Body)
	var le *LineError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		httpapi.WriteError(w, r, http.StatusRequestEntityTooLarge, httpapi.CodeBodyTooLarge,
			fmt.Sprintf("request body exceeds %d bytes; import large files offline with claude-mem server import --file", tooBig.Limit))
		return
	case errors.As(err, &le):
		httpapi.WriteError(w, r, http.StatusBadRequest, "invalid_line", le.Error()+" (nothing was imported)")
		return
	case err != nil:
		h.log.Error("import failed", "team", tm, "request_id", httpapi.RequestID(r.Context()), "error", err)
		httpapi.WriteErr(w, r, err)
		return
	}
	audit.Annotate(r.Context(), audit.Resource("team:"+tm))
	httpapi.WriteJSON(w, http.StatusOK, ImportResponse{Report: rep, Added: rep.Added()})
}
