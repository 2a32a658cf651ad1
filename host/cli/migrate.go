package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/store"
)

func (a *app) migrateCommand() *cobra.Command {
	var status bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending store migrations (--status lists them); safe while the server runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			return a.migrate(cmd.Context(), cfg, status)
		},
	}
	cmd.Flags().BoolVar(&status, "status", false, "list each migration with the time it was applied, or pending")
	return cmd
}

func (a *app) migrate(ctx context.Context, cfg config.Config, statusOnly bool) (err error) {
	path := filepath.Join(cfg.DataDir, store.FileName)
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if statusOnly {
		states, err := st.Status(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(w, "store %s\n", path)
		for _, s := range states {
			when := "pending"
			if !s.AppliedAt.IsZero() {
				when = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "  %04d\t%s\t%s\n", s.Version, s.Name, when)
		}
		return w.Flush()
	}
	applied, err := st.Migrate(ctx)
	for _, m := range applied {
		fmt.Fprintf(a.stdout, "applied %04d_%s\n", m.Version, m.Name)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(a.stdout, "store %s is up to date\n", path)
	}
	return nil
}
