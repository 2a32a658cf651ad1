package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/daemon"
	"github.com/claude-mem/claude-mem-server/host/exchange"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/importer"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// exportCommand is `server export [--out file] [--team T]`.
func (a *app) exportCommand() *cobra.Command {
	var out, team string
	var offline bool
	cmd := &cobra.Command{
		Use:   "export [--out file] [--team T]",
		Short: "Export a team's memory as JSONL (projects, sessions, prompts, events, memories with history, summaries)",
		Long: "Export a team's memory in the versioned claude-mem-server JSONL format (docs/api.md), to --out or\n" +
			"stdout. Progress goes to stderr. When the server runs, the export goes through its API\n" +
			"(POST /v1/export) with the admin key in " + EnvAPIKey + ", and the key's team is exported; when it is\n" +
			"stopped (or with --offline), the data dir is read directly and --team picks the team (default: local).\n" +
			"Import the file with `claude-mem server import --file`.",
		Example: "  claude-mem server export --out memory.jsonl",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			var w io.Writer = a.stdout
			if out != "" && out != "-" {
				f, err := os.Create(expandHome(out))
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriter(w)
			var counts map[string]int64
			if base, ok := a.exchangeServer(cfg, offline); ok {
				if team != "" {
					return errors.New("--team works on the data dir only: through the running server, the API key's team is exported (add --offline to read the data dir)")
				}
				counts, err = a.remoteExport(cmd.Context(), base, bw)
			} else {
				st, err2 := openDataStore(cmd.Context(), cfg)
				if err2 != nil {
					return err2
				}
				defer st.Close()
				if team == "" {
					team = memory.LocalTeam
				}
				counts, err = exchange.Export(cmd.Context(), st, team, bw, a.exchangeProgress("exported"))
			}
			if err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "exported %d projects, %d sessions, %d events, %d prompts, %d observations, %d summaries\n",
				counts[exchange.KindProject], counts[exchange.KindSession], counts[exchange.KindEvent], counts[exchange.KindPrompt],
				counts[exchange.KindObservation], counts[exchange.KindSummary])
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the file to write (default: stdout)")
	cmd.Flags().StringVar(&team, "team", "", "the team to export, on the data dir (default: local)")
	cmd.Flags().BoolVar(&offline, "offline", false, "read the data dir even while a server runs")
	return cmd
}

// exchangeServer is the running server's base URL, unless offline.
func (a *app) exchangeServer(cfg config.Config, offline bool) (string, bool) {
	if offline {
		return "", false
	}
	_, port, ok := daemon.Running(cfg.DataDir)
	if !ok {
		return "", false
	}
	if port == 0 {
		port = cfg.Server.Port
	}
	return "http://" + dialAddr(cfg.Server.Host, port), true
}

func openDataStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, filepath.Join(cfg.DataDir, store.FileName))
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// exchangeProgress is the progress bar on stderr.
func (a *app) exchangeProgress(verb string) *importer.Progress {
	tty := false
	if f, ok := a.stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil {
			tty = fi.Mode()&os.ModeCharDevice != 0
		}
	}
	return importer.NewProgress(a.stderr, tty, verb)
}

// exchangeCall sends an export or import request to the running server.
func (a *app) exchangeCall(ctx context.Context, base, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	if key := a.getenv(EnvAPIKey); key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the server at %s does not answer: %w; see `claude-mem server status`, or add --offline", base, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var e httpapi.ErrorBody
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return nil, fmt.Errorf("the server at %s refused (HTTP %d): %s; set %s to a key with the scope %s needs, or stop the server (or add --offline) to work on its data dir",
				base, resp.StatusCode, msg, EnvAPIKey, path)
		}
		return nil, fmt.Errorf("%s (HTTP %d)", msg, resp.StatusCode)
	}
	return resp, nil
}

// remoteExport streams POST /v1/export into w, counting lines on stderr.
func (a *app) remoteExport(ctx context.Context, base string, w io.Writer) (map[string]int64, error) {
	resp, err := a.exchangeCall(ctx, base, "/v1/export", "application/json", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	fmt.Fprintf(a.stderr, "exporting from %s\n", base)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), exchange.MaxLine)
	counts := map[string]int64{}
	var n int64
	ended := false
	for sc.Scan() {
		line := sc.Bytes()
		var head struct {
			Kind   string           `json:"kind"`
			Counts map[string]int64 `json:"counts"`
		}
		if json.Unmarshal(line, &head) == nil && head.Kind == exchange.KindEnd {
			counts, ended = head.Counts, true
		}
		if _, err := w.Write(append(line, '\n')); err != nil {
			return nil, err
		}
		if n++; n%1000 == 0 {
			fmt.Fprintf(a.stderr, "exported %d lines\n", n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !ended {
		return nil, errors.New("the export stream ended early (no end line); see the server log")
	}
	return counts, nil
}
