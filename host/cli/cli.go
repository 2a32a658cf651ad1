// Package cli is the claude-mem command line: `claude-mem server …` to run
// and manage the host, `claude-mem worker …` as the TypeScript claude-mem's
// name for the same commands, `claude-mem version`, and the hidden
// `claude-mem plugin serve <kind> <name>` through which the host runs its
// bundled plugins from its own binary.
//
// Errors are printed once, on stderr, prefixed "claude-mem: ", and say what
// to do next. Exit codes: 0 success, 1 failure, 3 `server status` found no
// server running.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/bundled"
	"github.com/claude-mem/claude-mem-server/host/version"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// Exit codes.
const (
	ExitOK         = 0
	ExitFailure    = 1
	ExitNotRunning = 3 // `server status`: no server is running
)

// Main runs the command line with args (without the program name) and
// returns the process's exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	a := &app{stdout: stdout, stderr: stderr, environ: os.Environ()}
	root := a.rootCommand()
	root.SetArgs(args)
	return report(stderr, root.ExecuteContext(ctx))
}

// app carries what every command needs.
type app struct {
	stdout, stderr io.Writer
	// environ is the environment layer of the config.
	environ []string
}

// exitError ends the command with code; err, if not nil, is printed first.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode ends the command with code and no message: the command has
// already said what there was to say.
func exitCode(code int) error { return &exitError{code: code} }

func report(stderr io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	code := ExitFailure
	var ee *exitError
	if errors.As(err, &ee) {
		code, err = ee.code, ee.err
	}
	if err != nil {
		fmt.Fprintf(stderr, "claude-mem: %s\n", err)
	}
	return code
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "claude-mem",
		Short: "The claude-mem server: persistent memory for coding agents",
		Long: "The claude-mem server: persistent memory for coding agents.\n\n" +
			"Start it with `claude-mem server start`; `claude-mem server doctor` checks the setup.",
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w; see `%s --help`", err, cmd.CommandPath())
	})
	root.AddCommand(
		a.serverCommand("server", "Run and manage the claude-mem server", true),
		a.serverCommand("worker", "Aliases of the server commands, under the TypeScript claude-mem's name", false),
		a.versionCommand(),
		a.pluginCommand(),
	)
	root.AddCommand(a.hookCommand(), a.installCommand(), a.uninstallCommand())
	root.AddCommand(a.mcpCommand(), a.openapiCommand())
	return root
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.stdout, "claude-mem %s (%s, %s, %s/%s)\n",
				version.Version, version.Runtime, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// pluginCommand is the hidden `plugin serve <kind> <name>` that the host
// runs to serve a bundled plugin. It loads no config and sets up no logging,
// and nothing of it may reach stdout: go-plugin's handshake line goes there.
func (a *app) pluginCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "plugin",
		Short:  "Serve a bundled plugin (used by the host)",
		Hidden: true,
	}
	cmd.SetOut(a.stderr) // help and usage too, never stdout
	cmd.AddCommand(&cobra.Command{
		Use:   "serve <kind> <name>",
		Short: "Serve a bundled plugin over go-plugin; the host runs this",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := bundled.Lookup(plugin.Kind(args[0]), args[1])
			if err != nil {
				return fmt.Errorf("plugin serve: %w; the bundled plugins are %s", err, bundledNames())
			}
			p.Serve()
			return nil
		},
	})
	return cmd
}

func bundledNames() string {
	s := ""
	for i, p := range bundled.Plugins {
		if i > 0 {
			s += ", "
		}
		s += string(p.Kind) + " " + p.Name
	}
	return s
}
