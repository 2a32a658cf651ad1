package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// healthcheckCommand probes /healthz of the configured address. Container
// images built on a minimal base have no curl; the binary probes itself.
func (a *app) healthcheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the server at the configured address answers /healthz",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			addr := dialAddr(cfg.Server.Host, cfg.Server.Port)
			if !healthy(cmd.Context(), addr) {
				return fmt.Errorf("no healthy server at http://%s/healthz; see `claude-mem server logs`", addr)
			}
			fmt.Fprintf(a.stdout, "healthy: http://%s\n", addr)
			return nil
		},
	}
}
