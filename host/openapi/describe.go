package openapi

import (
	"reflect"

	"github.com/claude-mem/claude-mem-server/host/openapi/internal/describe"
)

//go:generate go run ./gendesc

// describeKey is describe.Key, the key of descriptions.
func describeKey(t reflect.Type, field string) string { return describe.Key(t, field) }
