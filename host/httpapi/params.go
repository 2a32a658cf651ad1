package httpapi

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
)

// PathID reads the {id} path parameter as a positive integer, answering
// 400 itself when it is not one; what names the row in that answer.
func PathID(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, what+" id must be a positive integer")
		return 0, false
	}
	return id, true
}
