package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/importer"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// importCommand is `server import --from-claude-mem <path>`.
func (a *app) importCommand() *cobra.Command {
	var from string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import --from-claude-mem <path-to-claude-mem.db>",
		Short: "Import a TypeScript claude-mem database (sessions, prompts, observations, summaries)",
		Long: "Import a TypeScript claude-mem database, usually ~/.claude-mem/claude-mem.db: its sessions, user\n" +
			"prompts, observations and session summaries, with their timestamps, projects and platform\n" +
			"sources. The file is opened read-only. Run it again at any time: only what is new is added.\n" +
			"It may run while the server runs.",
		Example: "  claude-mem server import --from-claude-mem ~/.claude-mem/claude-mem.db",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return errors.New("--from-claude-mem is required: the claude-mem.db to import, usually ~/.claude-mem/claude-mem.db")
			}
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			src, err := filepath.Abs(expandHome(from))
			if err != nil {
				return err
			}
			dst := filepath.Join(cfg.DataDir, store.FileName)
			if src == dst {
				return fmt.Errorf("%s is this server's own store; point --from-claude-mem at the TypeScript claude-mem.db", src)
			}
			if _, err := os.Stat(src); err != nil {
				return fmt.Errorf("cannot read %s: %w", src, err)
			}
			st, err := store.Open(cmd.Context(), dst)
			if err != nil {
				return err
			}
			defer st.Close()
			if _, err := st.Migrate(cmd.Context()); err != nil {
				return err
			}
			opts := importer.Options{Source: src, Store: st, Progress: a.stderr}
			if f, ok := a.stderr.(*os.File); ok {
				if fi, err := f.Stat(); err == nil {
					opts.ProgressTTY = fi.Mode()&os.ModeCharDevice != 0
				}
			}
			rep, err := importer.Import(cmd.Context(), opts)
			if err != nil {
				return fmt.Errorf("%w (rows imported before the failure stay; run the import again to finish)", err)
			}
			if asJSON {
				b, err := json.Marshal(rep)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s\n", b)
				return nil
			}
			fmt.Fprintf(a.stdout, "imported %s into %s\n", src, dst)
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(w, "\tread\tnew\talready there\t")
			for _, row := range []struct {
				name string
				c    importer.Counts
			}{{"sessions", rep.Sessions}, {"prompts", rep.Prompts}, {"observations", rep.Observations}, {"summaries", rep.Summaries}} {
				fmt.Fprintf(w, "%s\t%d\t%d\t%d\t\n", row.name, row.c.Read, row.c.Imported, row.c.Existing)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if rep.Projects > 0 {
				fmt.Fprintf(a.stdout, "%d new projects\n", rep.Projects)
			}
			if rep.OrphanSessions > 0 {
				fmt.Fprintf(a.stdout, "%d sessions created for rows whose session was missing from the source\n", rep.OrphanSessions)
			}
			if rep.Added() == 0 {
				fmt.Fprintln(a.stdout, "nothing new to import")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from-claude-mem", "", "the TypeScript claude-mem database to import (usually ~/.claude-mem/claude-mem.db)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// expandHome expands a leading ~/.
func expandHome(p string) string {
	if p == "~" || len(p) > 1 && p[:2] == "~/" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}
