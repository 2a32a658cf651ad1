package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/openapi"
)

// openapiCommand prints the REST API's OpenAPI document: the one the
// server serves at /v1/openapi.json, with no server needed. `make
// generate` writes docs/openapi.json with it.
func (a *app) openapiCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "openapi",
		Short: "Print the REST API's OpenAPI 3.1 document (served at " + openapi.Path + ")",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			doc, err := openapi.Document()
			if err != nil {
				return fmt.Errorf("openapi: %w (this is a bug: please report it)", err)
			}
			_, err = a.stdout.Write(doc)
			return err
		},
	}
}
