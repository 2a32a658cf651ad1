// Package bundled lists the plugins built into the claude-mem binary. The
// host runs each of them as a separate process by re-executing its own
// binary with the hidden `claude-mem plugin serve <kind> <name>` command,
// so bundled and external plugins speak the same protocol over the same
// boundary.
package bundled

import (
	"fmt"

	adapterclaudecode "github.com/claude-mem/claude-mem-server/plugins/adapter-claudecode"
	adaptergeneric "github.com/claude-mem/claude-mem-server/plugins/adapter-generic"
	authapikey "github.com/claude-mem/claude-mem-server/plugins/auth-apikey"
	queuesqlite "github.com/claude-mem/claude-mem-server/plugins/queue-sqlite"
	queuevalkey "github.com/claude-mem/claude-mem-server/plugins/queue-valkey"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// Plugin is one bundled plugin.
type Plugin struct {
	Kind  plugin.Kind
	Name  string
	Serve func()
}

// Plugins are the bundled plugins.
var Plugins = []Plugin{
	{Kind: plugin.KindQueue, Name: queuesqlite.Info.Name, Serve: queuesqlite.Serve},
	{Kind: plugin.KindQueue, Name: queuevalkey.Info.Name, Serve: queuevalkey.Serve},
	{Kind: plugin.KindAuth, Name: authapikey.Info.Name, Serve: authapikey.Serve},
	{Kind: plugin.KindAdapter, Name: adapterclaudecode.Info.Name, Serve: adapterclaudecode.Serve},
	{Kind: plugin.KindAdapter, Name: adaptergeneric.Info.Name, Serve: adaptergeneric.Serve},
}

// Lookup finds a bundled plugin.
func Lookup(kind plugin.Kind, name string) (Plugin, error) {
	for _, p := range Plugins {
		if p.Kind == kind && p.Name == name {
			return p, nil
		}
	}
	return Plugin{}, fmt.Errorf("no bundled %s plugin named %q", kind, name)
}

// Args are the arguments that make the claude-mem binary serve p.
func (p Plugin) Args() []string { return []string{"plugin", "serve", string(p.Kind), p.Name} }
