package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/daemon"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/store"
	authapikey "github.com/claude-mem/claude-mem-server/plugins/auth-apikey"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// adminTimeout bounds one admin API call.
const adminTimeout = 15 * time.Second

// adminClient is what the team, project and api-key commands work
// through: the admin API of the running server, or, when none runs, the
// data dir itself (the host store and the auth-apikey key file).
type adminClient interface {
	Teams(ctx context.Context) ([]access.Team, error)
	CreateTeam(ctx context.Context, req access.CreateTeamRequest) (access.Team, error)
	Projects(ctx context.Context, team string) ([]access.Project, error)
	CreateProject(ctx context.Context, req access.CreateProjectRequest) (access.Project, bool, error)
	Keys(ctx context.Context, team string) ([]access.Key, error)
	CreateKey(ctx context.Context, req access.CreateKeyRequest) (access.CreatedKey, error)
	RevokeKey(ctx context.Context, id string) (access.Key, error)
	Close() error
}

// addOfflineFlag adds --offline to a command and its subcommands.
func addOfflineFlag(cmd *cobra.Command) {
	cmd.PersistentFlags().Bool("offline", false,
		"work on the data dir even while a server runs (needs write access to it; a running server sees the change at once, a revocation within 1s)")
}

// admin opens the admin client of the configured server: its admin API
// when it runs, else (or with --offline) the data dir.
func (a *app) admin(cmd *cobra.Command) (adminClient, error) {
	cfg, err := a.load(cmd)
	if err != nil {
		return nil, err
	}
	offline, _ := cmd.Flags().GetBool("offline")
	if _, port, ok := daemon.Running(cfg.DataDir); ok && !offline {
		if port == 0 {
			port = cfg.Server.Port
		}
		return &remoteAdmin{base: "http://" + dialAddr(cfg.Server.Host, port), key: a.getenv(EnvAPIKey)}, nil
	}
	return openLocalAdmin(cmd.Context(), cfg)
}

// localAdmin works on a stopped server's data dir as its owner: whoever
// can read the data dir owns every key in it anyway.
type localAdmin struct {
	adm  *access.Admin
	st   *store.Store
	prov *authapikey.Provider
}

func openLocalAdmin(ctx context.Context, cfg config.Config) (*localAdmin, error) {
	st, err := store.Open(ctx, filepath.Join(cfg.DataDir, store.FileName))
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	prov, err := authapikey.Open(ctx, filepath.Join(cfg.DataDir, authapikey.FileName))
	if err != nil {
		st.Close()
		return nil, err
	}
	return &localAdmin{st: st, prov: prov, adm: &access.Admin{Store: st, Provider: func() (auth.Provider, error) { return prov, nil }}}, nil
}

var owner = access.LocalOwner()

func (l *localAdmin) Teams(ctx context.Context) ([]access.Team, error) {
	return l.adm.Teams(ctx, owner)
}
func (l *localAdmin) CreateTeam(ctx context.Context, req access.CreateTeamRequest) (access.Team, error) {
	return l.adm.CreateTeam(ctx, owner, req)
}
func (l *localAdmin) Projects(ctx context.Context, team string) ([]access.Project, error) {
	return l.adm.Projects(ctx, owner, team)
}
func (l *localAdmin) CreateProject(ctx context.Context, req access.CreateProjectRequest) (access.Project, bool, error) {
	return l.adm.CreateProject(ctx, owner, req)
}
func (l *localAdmin) Keys(ctx context.Context, team string) ([]access.Key, error) {
	return l.adm.Keys(ctx, owner, team)
}
func (l *localAdmin) CreateKey(ctx context.Context, req access.CreateKeyRequest) (access.CreatedKey, error) {
	return l.adm.CreateKey(ctx, owner, req)
}
func (l *localAdmin) RevokeKey(ctx context.Context, id string) (access.Key, error) {
	return l.adm.RevokeKey(ctx, owner, id)
}
func (l *localAdmin) Close() error { return errors.Join(l.prov.Close(), l.st.Close()) }

// remoteAdmin calls the admin API of a running server.
type remoteAdmin struct {
	base, key string
}

func (r *remoteAdmin) Close() error { return nil }

// do sends a request and decodes a 2xx answer into out; other answers
// become errors that say what to do.
func (r *remoteAdmin) do(ctx context.Context, method, path string, in, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		req.Header.Set("Authorization", "Bearer "+r.key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("the server at %s does not answer: %w; see `claude-mem server status`", r.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e httpapi.ErrorBody
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			if r.key == "" {
				return resp.StatusCode, fmt.Errorf("the server at %s wants an API key (%s); set %s to a key with the admin scope, or stop the server to work on its data dir", r.base, msg, EnvAPIKey)
			}
			return resp.StatusCode, fmt.Errorf("the server at %s refused the key in %s: %s", r.base, EnvAPIKey, msg)
		case http.StatusForbidden:
			return resp.StatusCode, fmt.Errorf("the server at %s refused: %s", r.base, msg)
		}
		return resp.StatusCode, fmt.Errorf("%s (HTTP %d)", msg, resp.StatusCode)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func teamQuery(team string) string {
	if team == "" {
		return ""
	}
	return "?team=" + url.QueryEscape(team)
}

func (r *remoteAdmin) Teams(ctx context.Context) ([]access.Team, error) {
	var out access.TeamList
	_, err := r.do(ctx, http.MethodGet, "/v1/admin/teams", nil, &out)
	return out.Teams, err
}

func (r *remoteAdmin) CreateTeam(ctx context.Context, req access.CreateTeamRequest) (access.Team, error) {
	var out access.Team
	_, err := r.do(ctx, http.MethodPost, "/v1/admin/teams", req, &out)
	return out, err
}

func (r *remoteAdmin) Projects(ctx context.Context, team string) ([]access.Project, error) {
	var out access.ProjectList
	_, err := r.do(ctx, http.MethodGet, "/v1/admin/projects"+teamQuery(team), nil, &out)
	return out.Projects, err
}

func (r *remoteAdmin) CreateProject(ctx context.Context, req access.CreateProjectRequest) (access.Project, bool, error) {
	var out access.Project
	status, err := r.do(ctx, http.MethodPost, "/v1/admin/projects", req, &out)
	return out, status == http.StatusCreated, err
}

func (r *remoteAdmin) Keys(ctx context.Context, team string) ([]access.Key, error) {
	var out access.KeyList
	_, err := r.do(ctx, http.MethodGet, "/v1/admin/api-keys"+teamQuery(team), nil, &out)
	return out.Keys, err
}

func (r *remoteAdmin) CreateKey(ctx context.Context, req access.CreateKeyRequest) (access.CreatedKey, error) {
	var out access.CreatedKey
	_, err := r.do(ctx, http.MethodPost, "/v1/admin/api-keys", req, &out)
	return out, err
}

func (r *remoteAdmin) RevokeKey(ctx context.Context, id string) (access.Key, error) {
	var out access.Key
	_, err := r.do(ctx, http.MethodPost, "/v1/admin/api-keys/"+url.PathEscape(id)+"/revoke", nil, &out)
	return out, err
}

// withAdmin runs fn with the admin client and closes it.
func (a *app) withAdmin(cmd *cobra.Command, fn func(ctx context.Context, c adminClient) error) (err error) {
	c, err := a.admin(cmd)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := c.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	return fn(cmd.Context(), c)
}

func (a *app) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s\n", b)
	return nil
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func (a *app) teamCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "team",
		Short: "Create and list teams (through the running server, else on the data dir)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	addOfflineFlag(cmd)
	var name string
	create := &cobra.Command{
		Use:   "create <id>",
		Short: "Create a team; its id is lowercase letters, digits, - and _",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAdmin(cmd, func(ctx context.Context, c adminClient) error {
				t, err := c.CreateTeam(ctx, access.CreateTeamRequest{ID: args[0], Name: name})
				if err != nil {
					return fmt.Errorf("create team %s: %w", args[0], err)
				}
				fmt.Fprintf(a.stdout, "created team %s (%s)\n", t.ID, t.Name)
				return nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "display name (default: the id)")
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the teams",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAdmin(cmd, func(ctx context.Context, c adminClient) error {
				teams, err := c.Teams(ctx)
				if err != nil {
					return fmt.Errorf("list teams: %w", err)
				}
				if asJSON {
					return a.printJSON(access.TeamList{Teams: teams})
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tNAME\tCREATED")
				for _, t := range teams {
					fmt.Fprintf(w, "%s\t%s\t%s\n", t.ID, t.Name, when(t.CreatedAt))
				}
				return w.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(create, list)
	return cmd
}

func (a *app) projectCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "project",
		Short: "Create and list a team's projects (through the running server, else on the data dir)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	addOfflineFlag(cmd)
	var team, root string
	create := &cobra.Command{
		Use:   "create <name>",
		Short: "Create a project in a team",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAdmin(cmd, func(ctx context.Context, c adminClient) error {
				p, created, err := c.CreateProject(ctx, access.CreateProjectRequest{Team: team, Name: args[0], RootPath: root})
				if err != nil {
					return fmt.Errorf("create project %s: %w", args[0], err)
				}
				verb := "created"
				if !created {
					verb = "exists:"
				}
				fmt.Fprintf(a.stdout, "%s project %s (id %d) in team %s\n", verb, p.Name, p.ID, p.TeamID)
				return nil
			})
		},
	}
	create.Flags().StringVar(&team, "team", "", "team (default: the caller's; local when working on the data dir)")
	create.Flags().StringVar(&root, "root", "", "the project's root directory, for reference")
	var listTeam string
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List a team's projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAdmin(cmd, func(ctx context.Context, c adminClient) error {
				projects, err := c.Projects(ctx, listTeam)
				if err != nil {
					return fmt.Errorf("list projects: %w", err)
				}
				if asJSON {
					return a.printJSON(access.ProjectList{Projects: projects})
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tTEAM\tNAME\tROOT\tCREATED")
				for _, p := range projects {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", p.ID, p.TeamID, p.Name, dash(p.RootPath), when(p.CreatedAt))
				}
				return w.Flush()
			})
		},
	}
	list.Flags().StringVar(&listTeam, "team", "", "team (default: the caller's; local when working on the data dir)")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(create, list)
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
