// Package authapikey is the bundled auth provider: API keys of the form
// cm_<random>, stored only as SHA-256 hashes in the plugin's own SQLite file.
package authapikey

import (
	"context"
	"path/filepath"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// Info describes the plugin.
var Info = plugin.Info{
	Name:             "auth-apikey",
	Version:          "0.1.0",
	Kind:             plugin.KindAuth,
	ProtocolVersions: []int{auth.ProtocolVersion},
	Description:      "API keys stored as SHA-256 hashes",
}

// FileName is the provider's database file inside the data directory.
const FileName = "auth.db"

// Serve runs the provider as a plugin.
func Serve() {
	auth.Serve(Info, func(ctx context.Context, cfg plugin.Config) (auth.Provider, error) {
		return Open(ctx, filepath.Join(cfg.DataDir, FileName))
	})
}
