// Command claude-mem is the claude-mem server: the host, its command line,
// and the bundled plugins, which it serves by re-executing itself.
package main

import (
	"context"
	"os"

	"github.com/claude-mem/claude-mem-server/host/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
