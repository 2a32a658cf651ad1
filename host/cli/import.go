package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/exchange"
	"github.com/claude-mem/claude-mem-server/host/importer"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// importCommand is `server import --from-claude-mem <path>` and
// `server import --file <jsonl> [--format F]`.
func (a *app) importCommand() *cobra.Command {
	var from, file, format, team, project string
	var asJSON, offline bool
	cmd := &cobra.Command{
		Use:   "import --from-claude-mem <path-to-claude-mem.db> | --file <jsonl> [--format claude-mem-jsonl|mcp-memory]",
		Short: "Import a TypeScript claude-mem database, a claude-mem-server export, or an MCP memory.jsonl",
		Long: "Import a TypeScript claude-mem database, usually ~/.claude-mem/claude-mem.db: its sessions, user\n" +
			"prompts, observations and session summaries, with their timestamps, projects and platform\n" +
			"sources. The file is opened read-only. Run it again at any time: only what is new is added.\n" +
			"It may run while the server runs.\n\n" +
			"With --file, import a JSONL file instead: a `claude-mem server export` (--format claude-mem-jsonl)\n" +
			"or the official MCP memory server's memory.jsonl knowledge graph (--format mcp-memory; its\n" +
			"entities and relations become manual memories of --project). The format is detected from the\n" +
			"first line when --format is not given. The import is atomic and idempotent. When the server\n" +
			"runs, it goes through its API (POST /v1/import, into the team of the key in " + EnvAPIKey + "); when\n" +
			"it is stopped (or with --offline), into the data dir, into --team (default: local).",
		Example: "  claude-mem server import --from-claude-mem ~/.claude-mem/claude-mem.db\n" +
			"  claude-mem server import --file export.jsonl\n" +
			"  claude-mem server import --file ~/.mcp/memory.jsonl --format mcp-memory --project notes",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case from == "" && file == "":
				return errors.New("--from-claude-mem is required: the claude-mem.db to import, usually ~/.claude-mem/claude-mem.db (or --file: a JSONL export or memory.jsonl)")
			case from != "" && file != "":
				return errors.New("give --from-claude-mem or --file, not both")
			}
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			if file != "" {
				return a.importFile(cmd, cfg, fileImport{file: file, format: format, team: team, project: project, offline: offline, asJSON: asJSON})
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
	cmd.Flags().StringVar(&file, "file", "", "a JSONL file to import: a claude-mem server export or an MCP memory.jsonl")
	cmd.Flags().StringVar(&format, "format", "", "the --file format: claude-mem-jsonl or mcp-memory (default: detected)")
	cmd.Flags().StringVar(&team, "team", "", "the team to import into, on the data dir (default: local)")
	cmd.Flags().StringVar(&project, "project", "", "the project of MCP memories (default: mcp-memory)")
	cmd.Flags().BoolVar(&offline, "offline", false, "with --file, write the data dir even while a server runs")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

type fileImport struct {
	file, format, team, project string
	offline, asJSON             bool
}

// detectFormat reads the first non-blank line: a "kind" is an export, a
// "type" an MCP memory.jsonl.
func detectFormat(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), exchange.MaxLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var head struct{ Kind, Type string }
		if json.Unmarshal(line, &head) == nil && head.Kind == "" && head.Type != "" {
			return exchange.FormatMCPMemory, nil
		}
		return exchange.FormatClaudeMem, nil
	}
	return exchange.FormatClaudeMem, sc.Err()
}

func (a *app) importFile(cmd *cobra.Command, cfg config.Config, o fileImport) error {
	path := expandHome(o.file)
	if o.format == "" {
		var err error
		if o.format, err = detectFormat(path); err != nil {
			return fmt.Errorf("cannot read %s: %w", path, err)
		}
	}
	if o.format != exchange.FormatClaudeMem && o.format != exchange.FormatMCPMemory {
		return fmt.Errorf("--format must be %s or %s", exchange.FormatClaudeMem, exchange.FormatMCPMemory)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer f.Close()
	var rep exchange.Report
	if base, ok := a.exchangeServer(cfg, o.offline); ok {
		if o.team != "" {
			return errors.New("--team works on the data dir only: through the running server, the API key's team receives the import (add --offline to write the data dir)")
		}
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "sending %s (%d bytes, %s) to %s\n", path, fi.Size(), o.format, base)
		q := url.Values{"format": {o.format}}
		if o.project != "" {
			q.Set("project", o.project)
		}
		resp, err := a.exchangeCall(cmd.Context(), base, "/v1/import?"+q.Encode(), exchange.ContentType, f)
		if err != nil {
			return fmt.Errorf("%w (nothing was imported)", err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			return fmt.Errorf("POST /v1/import: unexpected answer: %w", err)
		}
	} else {
		st, err := openDataStore(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		if o.team == "" {
			o.team = memory.LocalTeam
		}
		rep, err = exchange.Import(cmd.Context(), exchange.ImportOptions{Store: st, Team: o.team, Format: o.format, Project: o.project,
			Progress: a.exchangeProgress("imported")}, f)
		if err != nil {
			return fmt.Errorf("%s: %w (nothing was imported)", path, err)
		}
	}
	if o.asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s\n", b)
		return nil
	}
	fmt.Fprintf(a.stdout, "imported %s (%s)\n", path, rep.Format)
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\tread\tnew\talready there\t")
	kinds := make([]string, 0, len(rep.Kinds))
	for k := range rep.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		c := rep.Kinds[k]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t\n", k, c.Read, c.Imported, c.Existing)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if rep.Added() == 0 {
		fmt.Fprintln(a.stdout, "nothing new to import")
	}
	return nil
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
