package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

func (a *app) apiKeyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "api-key",
		Short: "Create, list and revoke API keys (through the running server, else on the data dir)",
		Long: "Create, list and revoke API keys.\n\n" +
			"With a server running, the commands use its admin API: in local mode from this machine\n" +
			"they act as the local owner; in api-key mode they send the key in " + EnvAPIKey + ",\n" +
			"which needs the admin scope (* to manage other teams). With no server running, or\n" +
			"with --offline, they work on the data dir directly, as its owner: that is how the\n" +
			"first key of a server in api-key mode is made.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	addOfflineFlag(cmd)
	cmd.AddCommand(a.apiKeyCreateCommand(), a.apiKeyListCommand(), a.apiKeyRevokeCommand())
	return cmd
}

func (a *app) apiKeyCreateCommand() *cobra.Command {
	var (
		req    access.CreateKeyRequest
		scopes string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "create --scope <scopes> [--team T] [--project P] [--expires 30d] [--name N]",
		Short: "Create a key; the key is printed once, on stdout, and never again",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range strings.Split(scopes, ",") {
				if s = strings.TrimSpace(s); s != "" {
					req.Scopes = append(req.Scopes, s)
				}
			}
			if len(req.Scopes) == 0 {
				return fmt.Errorf("--scope is required: a comma-separated list of %s", strings.Join(auth.AllScopes, ", "))
			}
			return a.withAdmin(cmd, func(ctx context.Context, c adminClient) error {
				k, err := c.CreateKey(ctx, req)
				if err != nil {
					return fmt.Errorf("create key: %w", err)
				}
				if asJSON {
					return a.printJSON(k)
				}
				// The details go to stderr and the key alone to stdout, so
				// that KEY=$(claude-mem server api-key create …) works.
				fmt.Fprintf(a.stderr, "created key %s (%s…) for team %s", k.Key.ID, k.Key.Prefix, k.Key.TeamID)
				if k.Key.ProjectID != "" {
					fmt.Fprintf(a.stderr, ", project %s", k.Key.ProjectID)
				}
				fmt.Fprintf(a.stderr, ", scopes %s", strings.Join(k.Key.Scopes, ","))
				if !k.Key.ExpiresAt.IsZero() {
					fmt.Fprintf(a.stderr, ", expires %s", when(k.Key.ExpiresAt))
				}
				fmt.Fprintln(a.stderr, "\nstore it now: it is shown this once and cannot be recovered")
				fmt.Fprintln(a.stdout, k.Secret)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&scopes, "scope", "", "comma-separated scopes: "+strings.Join(auth.AllScopes, ", "))
	f.StringVar(&req.Team, "team", "", "team the key belongs to (default: the caller's; local when working on the data dir)")
	f.StringVar(&req.Project, "project", "", "bind the key to one project of the team (its id or name)")
	f.StringVar(&req.ExpiresIn, "expires", "", "lifetime, such as 30d or 12h (default: never expires)")
	f.StringVar(&req.Name, "name", "", "a name to tell the key apart")
	f.StringVar(&req.Actor, "actor", "", "who the key's requests are attributed to in the audit log (default: the name)")
	f.BoolVar(&asJSON, "json", false, "print the key and its details as JSON")
	return cmd
}

func (a *app) apiKeyListCommand() *cobra.Command {
	var (
		team   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List keys, without their secrets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAdmin(cmd, func(ctx context.Context, c adminClient) error {
				keys, err := c.Keys(ctx, team)
				if err != nil {
					return fmt.Errorf("list keys: %w", err)
				}
				if asJSON {
					return a.printJSON(access.KeyList{Keys: keys})
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tPREFIX\tNAME\tTEAM\tPROJECT\tSCOPES\tSTATUS\tCREATED\tEXPIRES\tLAST USED")
				for _, k := range keys {
					fmt.Fprintf(w, "%s\t%s…\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, dash(k.Name), k.TeamID, dash(k.ProjectID),
						strings.Join(k.Scopes, ","), k.Status, when(k.CreatedAt), when(k.ExpiresAt), when(k.LastUsedAt))
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&team, "team", "", "list one team's keys (default: the caller's team; every team for a * caller)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) apiKeyRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke <id>",
		Short: "Revoke a key; a running server refuses it at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAdmin(cmd, func(ctx context.Context, c adminClient) error {
				k, err := c.RevokeKey(ctx, args[0])
				if err != nil {
					return fmt.Errorf("revoke key %s: %w", args[0], err)
				}
				fmt.Fprintf(a.stdout, "revoked key %s (%s…) of team %s\n", k.ID, k.Prefix, k.TeamID)
				return nil
			})
		},
	}
}
