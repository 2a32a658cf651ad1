// Command gendesc writes host/openapi/descriptions_gen.go: the doc
// comments of the API's Go types, which the OpenAPI document uses as its
// descriptions. `make generate` runs it.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/claude-mem/claude-mem-server/host/openapi"
	"github.com/claude-mem/claude-mem-server/host/openapi/internal/describe"
)

const module = "github.com/claude-mem/claude-mem-server"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gendesc:", err)
		os.Exit(1)
	}
}

func run() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := describe.Root(wd)
	if err != nil {
		return err
	}
	types, err := openapi.Types(openapi.Operations())
	if err != nil {
		return err
	}
	src, err := describe.Generate(root, module, "openapi", types)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, "host", "openapi", "descriptions_gen.go"), src, 0o644)
}
