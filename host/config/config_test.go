package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

type testBundle struct {
	home    string // temporary home directory
	dataDir string // home/.claude-mem, created
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	home := t.TempDir()
	b := &testBundle{home: home, dataDir: filepath.Join(home, DefaultDataDirName)}
	if err := os.MkdirAll(b.dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return b
}

// write creates a file under the home directory and returns its path.
func (b *testBundle) write(t *testing.T, rel, content string) string {
	t.Helper()
	path := filepath.Join(b.home, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeConfig writes the default config file.
func (b *testBundle) writeConfig(t *testing.T, content string) string {
	t.Helper()
	return b.write(t, filepath.Join(DefaultDataDirName, ConfigFileName), content)
}

// want returns the defaults as Load returns them with no file.
func (b *testBundle) want() Config {
	c := Default(b.home)
	c.configFile = filepath.Join(b.dataDir, ConfigFileName)
	return c
}

var testFlagKeys = map[string]string{
	"data-dir":         "data_dir",
	"host":             "server.host",
	"port":             "server.port",
	"shutdown-timeout": "server.shutdown_timeout",
	"concurrency":      "queue.concurrency",
	"log-level":        "log.level",
	"engine":           "queue.engine",
}

// flags returns a flag set like the CLI's, parsed from args.
func flags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("data-dir", "", "")
	fs.String("host", "127.0.0.1", "")
	fs.Int("port", 1, "")
	fs.Duration("shutdown-timeout", time.Second, "")
	fs.Int("concurrency", 1, "")
	fs.String("log-level", "info", "")
	fs.String("engine", "sqlite", "")
	fs.Bool("verbose", false, "") // not a config flag
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func assertConfig(t *testing.T, want, got Config) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("config mismatch\nwant: %+v\ngot:  %+v", want, got)
	}
}

func assertErrContains(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
	if !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("error %q lacks the \"config: \" prefix", err)
	}
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()

	const file = `
server:
  host: 10.0.0.1
  port: 4001
  max_body_bytes: 1024
queue:
  concurrency: 3
log:
  level: debug
`
	env := []string{
		"CLAUDE_MEM_SERVER_PORT=4002",
		"CLAUDE_MEM_QUEUE_CONCURRENCY=4",
		"CLAUDE_MEM_LOG_LEVEL=warn",
		"CLAUDE_MEM_AUTH_MODE=api-key",
	}
	args := []string{"--concurrency=5", "--log-level=error", "--shutdown-timeout=3s"}

	tests := map[string]struct {
		file   bool
		env    bool
		args   []string
		modify func(c *Config)
	}{
		"defaults only": {
			modify: func(*Config) {},
		},
		"file over defaults": {
			file: true,
			modify: func(c *Config) {
				c.Server.Host = "10.0.0.1"
				c.Server.Port = 4001
				c.Server.MaxBodyBytes = 1024
				c.Queue.Concurrency = 3
				c.Queue.RedisPrefix = "claude_mem_4001"
				c.Log.Level = "debug"
			},
		},
		"env over file": {
			file: true,
			env:  true,
			modify: func(c *Config) {
				c.Server.Host = "10.0.0.1"   // file only
				c.Server.Port = 4002         // env beats file
				c.Server.MaxBodyBytes = 1024 // file only
				c.Queue.Concurrency = 4
				c.Queue.RedisPrefix = "claude_mem_4002"
				c.Log.Level = "warn"
				c.Auth.Mode = AuthAPIKey // env only
			},
		},
		"flags over env": {
			file: true,
			env:  true,
			args: args,
			modify: func(c *Config) {
				c.Server.Host = "10.0.0.1"
				c.Server.Port = 4002 // env, no flag given
				c.Server.MaxBodyBytes = 1024
				c.Server.ShutdownTimeout = 3 * time.Second // flag only
				c.Queue.Concurrency = 5                    // flag beats env and file
				c.Queue.RedisPrefix = "claude_mem_4002"
				c.Log.Level = "error"
				c.Auth.Mode = AuthAPIKey
			},
		},
		"unchanged flags do not override": {
			file: true,
			env:  true,
			args: []string{"--verbose"},
			modify: func(c *Config) {
				c.Server.Host = "10.0.0.1"
				c.Server.Port = 4002
				c.Server.MaxBodyBytes = 1024
				c.Queue.Concurrency = 4
				c.Queue.RedisPrefix = "claude_mem_4002"
				c.Log.Level = "warn"
				c.Auth.Mode = AuthAPIKey
			},
		},
		"flags over defaults": {
			args: []string{"--host=::1", "--port=4003", "--engine=bullmq"},
			modify: func(c *Config) {
				c.Server.Host = "::1"
				c.Server.Port = 4003
				c.Queue.Engine = EngineBullMQ
				c.Queue.RedisPrefix = "claude_mem_4003"
			},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			opts := LoadOptions{Home: b.home, FlagKeys: testFlagKeys}
			if tt.file {
				b.writeConfig(t, file)
			}
			if tt.env {
				opts.Env = env
			}
			if tt.args != nil {
				opts.Flags = flags(t, tt.args...)
			}
			got, err := Load(opts)
			if err != nil {
				t.Fatal(err)
			}
			want := b.want()
			want.Queue.RedisPrefix = ""
			tt.modify(&want)
			want.fillDerived()
			assertConfig(t, want, got)
		})
	}
}

func TestLoadDataDir(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		env         func(b *testBundle) []string
		args        func(b *testBundle) []string
		configFile  string // explicit, relative to home
		wantDataDir func(b *testBundle) string
		wantLevel   string // proves which config file was read
		wantPlugins func(b *testBundle) string
	}{
		"default": {
			wantDataDir: func(b *testBundle) string { return b.dataDir },
			wantLevel:   "debug",
			wantPlugins: func(b *testBundle) string { return filepath.Join(b.dataDir, "plugins") },
		},
		"env": {
			env:         func(b *testBundle) []string { return []string{"CLAUDE_MEM_DATA_DIR=" + filepath.Join(b.home, "env")} },
			wantDataDir: func(b *testBundle) string { return filepath.Join(b.home, "env") },
			wantLevel:   "warn",
			wantPlugins: func(b *testBundle) string { return filepath.Join(b.home, "env", "plugins") },
		},
		"env with tilde": {
			env:         func(*testBundle) []string { return []string{"CLAUDE_MEM_DATA_DIR=~/env"} },
			wantDataDir: func(b *testBundle) string { return filepath.Join(b.home, "env") },
			wantLevel:   "warn",
			wantPlugins: func(b *testBundle) string { return filepath.Join(b.home, "env", "plugins") },
		},
		"flag over env": {
			env:         func(b *testBundle) []string { return []string{"CLAUDE_MEM_DATA_DIR=" + filepath.Join(b.home, "env")} },
			args:        func(b *testBundle) []string { return []string{"--data-dir", filepath.Join(b.home, "flag")} },
			wantDataDir: func(b *testBundle) string { return filepath.Join(b.home, "flag") },
			wantLevel:   "error",
			wantPlugins: func(b *testBundle) string { return filepath.Join(b.home, "flag", "plugins") },
		},
		"explicit file moves data dir": {
			configFile:  "moves/config.yaml",
			wantDataDir: func(b *testBundle) string { return filepath.Join(b.home, "elsewhere") },
			wantLevel:   "trace",
			wantPlugins: func(b *testBundle) string { return filepath.Join(b.home, "elsewhere", "plugins") },
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.writeConfig(t, "log: {level: debug}\n")
			b.write(t, "env/config.yaml", "log: {level: warn}\n")
			b.write(t, "flag/config.yaml", "log: {level: error}\n")
			b.write(t, "moves/config.yaml", "data_dir: ~/elsewhere\nlog: {level: trace}\n")
			opts := LoadOptions{Home: b.home, FlagKeys: testFlagKeys}
			if tt.configFile != "" {
				opts.ConfigFile = filepath.Join(b.home, tt.configFile)
			}
			if tt.env != nil {
				opts.Env = tt.env(b)
			}
			if tt.args != nil {
				opts.Flags = flags(t, tt.args(b)...)
			}
			got, err := Load(opts)
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.wantDataDir(b); got.DataDir != want {
				t.Errorf("DataDir = %q, want %q", got.DataDir, want)
			}
			if got.Log.Level != tt.wantLevel {
				t.Errorf("Log.Level = %q, want %q (wrong config file read: %s)", got.Log.Level, tt.wantLevel, got.ConfigFile())
			}
			if want := tt.wantPlugins(b); got.Plugins.Dir != want {
				t.Errorf("Plugins.Dir = %q, want %q", got.Plugins.Dir, want)
			}
		})
	}
}

func TestLoadEnvAliases(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		file     string
		env      []string
		wantHost string
		wantPort int
	}{
		"worker port alone": {
			env:      []string{"CLAUDE_MEM_WORKER_PORT=4100"},
			wantHost: DefaultHost,
			wantPort: 4100,
		},
		"server port beats worker port": {
			env:      []string{"CLAUDE_MEM_WORKER_PORT=4100", "CLAUDE_MEM_SERVER_PORT=4200"},
			wantHost: DefaultHost,
			wantPort: 4200,
		},
		"empty server port is unset": {
			env:      []string{"CLAUDE_MEM_SERVER_PORT=", "CLAUDE_MEM_WORKER_PORT=4100"},
			wantHost: DefaultHost,
			wantPort: 4100,
		},
		"worker alias beats file": {
			file:     "server: {host: 10.0.0.1, port: 4001}\n",
			env:      []string{"CLAUDE_MEM_WORKER_HOST=10.0.0.2", "CLAUDE_MEM_WORKER_PORT=4100"},
			wantHost: "10.0.0.2",
			wantPort: 4100,
		},
		"server host beats worker host": {
			env:      []string{"CLAUDE_MEM_SERVER_HOST=10.0.0.3", "CLAUDE_MEM_WORKER_HOST=10.0.0.2"},
			wantHost: "10.0.0.3",
			wantPort: defaultPort(os.Getuid()),
		},
		"last duplicate wins": {
			env:      []string{"CLAUDE_MEM_SERVER_PORT=4300", "CLAUDE_MEM_SERVER_PORT=4301"},
			wantHost: DefaultHost,
			wantPort: 4301,
		},
		"other CLAUDE_MEM variables are ignored": {
			env:      []string{"CLAUDE_MEM_MODEL=claude", "CLAUDE_MEM_SERVER_PROT=1", "PATH=/bin"},
			wantHost: DefaultHost,
			wantPort: defaultPort(os.Getuid()),
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tt.file != "" {
				b.writeConfig(t, tt.file)
			}
			got, err := Load(LoadOptions{Home: b.home, Env: tt.env})
			if err != nil {
				t.Fatal(err)
			}
			if got.Server.Host != tt.wantHost || got.Server.Port != tt.wantPort {
				t.Errorf("server = %s:%d, want %s:%d", got.Server.Host, got.Server.Port, tt.wantHost, tt.wantPort)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		file string   // default config file content; "" for none
		env  []string // environment
		args []string // flags
		want []string // substrings of the error; "FILE" stands for the file's path
	}{
		"unknown top-level key": {
			file: "datadir: /x\n",
			want: []string{"FILE: unknown key \"datadir\"", `did you mean "data_dir"?`},
		},
		"unknown nested key": {
			file: "server:\n  prot: 1\n",
			want: []string{"FILE: unknown key \"server.prot\"", `did you mean "server.port"?`},
		},
		"unknown key in a list item": {
			file: "plugins:\n  external:\n    - kind: queue\n      nmae: x\n",
			want: []string{`unknown key "plugins.external[0].nmae"`, `"plugins.external[0].name"`},
		},
		"unknown key in a lone list item": {
			file: "plugins:\n  external: {kind: queue, nmae: x}\n",
			want: []string{`unknown key "plugins.external[0].nmae"`},
		},
		"several unknown keys": {
			file: "zzz: 1\nqueue: {engin: valkey}\n",
			want: []string{`unknown keys "queue.engin"`, `, "zzz"`},
		},
		"keys are case-sensitive": {
			file: "Server: {port: 1}\n",
			want: []string{`unknown key "Server"`},
		},
		"dotted key": {
			file: "server.port: 4000\n",
			want: []string{`unknown key "server.port"`, `nest it under "server"`},
		},
		"wrong type in file": {
			file: "server:\n  port: abc\n",
			want: []string{`FILE: key "server.port": cannot parse "abc" as an integer`},
		},
		"mapping where a scalar belongs": {
			file: "server:\n  host: {a: b}\n",
			want: []string{`key "server.host": expected a string, got a mapping`},
		},
		"scalar where a mapping belongs": {
			file: "server: 5\n",
			want: []string{`key "server"`, "expected a map"},
		},
		"bare number for a duration": {
			file: "server: {shutdown_timeout: 10}\n",
			want: []string{`key "server.shutdown_timeout"`, "has no unit"},
		},
		"bad duration": {
			file: "queue: {lock_duration: soon}\n",
			want: []string{`key "queue.lock_duration": invalid value "soon": time: invalid duration`},
		},
		"fractional port": {
			file: "server: {port: 80.5}\n",
			want: []string{`key "server.port"`, "whole number"},
		},
		"invalid yaml": {
			file: "server: [\n",
			want: []string{"FILE: yaml:"},
		},
		"wrong type in env": {
			env:  []string{"CLAUDE_MEM_SERVER_PORT=abc"},
			want: []string{`CLAUDE_MEM_SERVER_PORT (server.port): cannot parse "abc" as an integer`},
		},
		"wrong type in alias env": {
			env:  []string{"CLAUDE_MEM_WORKER_PORT=x"},
			want: []string{`CLAUDE_MEM_WORKER_PORT (server.port)`},
		},
		"empty data dir from flag": {
			args: []string{"--data-dir="},
			want: []string{"data_dir is empty"},
		},
		"invalid value from flag": {
			args: []string{"--log-level=x", "--data-dir=/tmp"},
			want: []string{`log.level "x" is not supported`, "trace, debug, info, warn or error"},
		},
		"invalid engine from env": {
			env:  []string{"CLAUDE_MEM_QUEUE_ENGINE=redis"},
			want: []string{`queue.engine "redis" is not supported`, "set CLAUDE_MEM_QUEUE_ENGINE", "sqlite or valkey"},
		},
		"port out of range from env": {
			env:  []string{"CLAUDE_MEM_SERVER_PORT=70000"},
			want: []string{"server.port 70000 is out of range", "CLAUDE_MEM_SERVER_PORT"},
		},
		"invalid external plugin in file": {
			file: "plugins:\n  external:\n    - {kind: queue, name: Bad_Name, path: x, sha256: " + sum + "}\n",
			want: []string{`plugins.external[0].name "Bad_Name" is not valid`},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			path := ""
			if tt.file != "" {
				path = b.writeConfig(t, tt.file)
			}
			opts := LoadOptions{Home: b.home, Env: tt.env, FlagKeys: testFlagKeys}
			if tt.args != nil {
				opts.Flags = flags(t, tt.args...)
			}
			_, err := Load(opts)
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = strings.ReplaceAll(w, "FILE", path)
			}
			assertErrContains(t, err, want...)
		})
	}
}

func TestLoadFlagWrongType(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := Load(LoadOptions{
		Home:     b.home,
		Flags:    flags(t, "--host=abc"),
		FlagKeys: map[string]string{"host": "server.port"},
	})
	assertErrContains(t, err, `flag --host (server.port): cannot parse "abc" as an integer`)
}

func TestLoadFlagKeyToUnknownKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := Load(LoadOptions{
		Home:     b.home,
		Flags:    flags(t, "--port=1"),
		FlagKeys: map[string]string{"port": "server.prot"},
	})
	assertErrContains(t, err, `flag --port: unknown key "server.prot"`)
}

func TestLoadConfigFile(t *testing.T) {
	t.Parallel()

	t.Run("explicit missing file is an error", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		missing := filepath.Join(b.home, "nope.yaml")
		_, err := Load(LoadOptions{Home: b.home, ConfigFile: missing})
		assertErrContains(t, err, missing)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v is not fs.ErrNotExist", err)
		}
	})
	t.Run("missing default file is fine", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		got, err := Load(LoadOptions{Home: b.home})
		if err != nil {
			t.Fatal(err)
		}
		assertConfig(t, b.want(), got)
	})
	t.Run("missing data dir is fine", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		dir := filepath.Join(b.home, "not", "there")
		got, err := Load(LoadOptions{Home: b.home, Env: []string{"CLAUDE_MEM_DATA_DIR=" + dir}})
		if err != nil {
			t.Fatal(err)
		}
		if got.DataDir != dir {
			t.Errorf("DataDir = %q, want %q", got.DataDir, dir)
		}
	})
	t.Run("empty file is fine", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.writeConfig(t, "# nothing\n")
		got, err := Load(LoadOptions{Home: b.home})
		if err != nil {
			t.Fatal(err)
		}
		assertConfig(t, b.want(), got)
	})
	t.Run("explicit file with tilde", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		path := b.write(t, "conf/claude-mem.yaml", "log: {level: trace}\n")
		b.writeConfig(t, "log: {level: error}\n") // not read
		got, err := Load(LoadOptions{Home: b.home, ConfigFile: "~/conf/claude-mem.yaml"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Log.Level != "trace" || got.ConfigFile() != path {
			t.Errorf("level %q from %q, want trace from %q", got.Log.Level, got.ConfigFile(), path)
		}
	})
	t.Run("directory as config file", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := Load(LoadOptions{Home: b.home, ConfigFile: b.dataDir})
		assertErrContains(t, err, "read config file", b.dataDir)
	})
}

func TestLoadFullFile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.writeConfig(t, `
data_dir: ~/mem
server:
  host: "::1"
  port: 4000
  max_body_bytes: 2048
  shutdown_timeout: 1m30s
queue:
  engine: bullmq
  redis_url: redis://:pw@valkey:6379/2
  redis_prefix: mine
  concurrency: "8"
  lock_duration: 30s
auth:
  mode: api-key
  rate_limit_per_minute: 60
  audit_retention: 720h
log:
  level: trace
  file: logs/x.log
plugins:
  dir: ~/plug
  start_timeout: 2s
  external:
    - kind: queue
      name: my-queue
      path: my-queue-bin
      sha256: `+strings.ToUpper(sum)+`
    - kind: adapter
      name: a1
      path: /opt/a1
      sha256: `+sum+`
`)
	got, err := Load(LoadOptions{Home: b.home})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		DataDir: filepath.Join(b.home, "mem"),
		Server:  Server{Host: "::1", Port: 4000, MaxBodyBytes: 2048, ShutdownTimeout: 90 * time.Second},
		Queue: Queue{
			Engine: EngineBullMQ, RedisURL: "redis://:pw@valkey:6379/2", RedisPrefix: "mine",
			Concurrency: 8, LockDuration: 30 * time.Second,
		},
		Auth: Auth{Mode: AuthAPIKey, RateLimitPerMinute: 60, AuditRetention: 30 * 24 * time.Hour},
		Log:  Log{Level: "trace", File: filepath.Join(b.home, "mem", "logs", "x.log")},
		Plugins: Plugins{
			Dir:          filepath.Join(b.home, "plug"),
			StartTimeout: 2 * time.Second,
			External: []ExternalPlugin{
				{Kind: KindQueue, Name: "my-queue", Path: filepath.Join(b.home, "plug", "my-queue-bin"), SHA256: sum},
				{Kind: KindAdapter, Name: "a1", Path: "/opt/a1", SHA256: sum},
			},
		},
		Generation: Generation{
			Provider: ProviderHeuristic, MaxInputChars: 16000, BatchSize: 10, Timeout: time.Minute,
			Budget: Budget{DailyTokens: 2_000_000, ProjectDailyTokens: 500_000, JobTokens: 120_000, FallbackToHeuristic: true},
		},
		Privacy:    Privacy{SkipTools: []string{"ListMcpResourcesTool", "SlashCommand", "Skill", "TodoWrite", "AskUserQuestion"}},
		Context:    Context{MaxTokens: 6000, PromptMaxTokens: 1500},
		configFile: filepath.Join(b.dataDir, ConfigFileName),
	}
	assertConfig(t, want, got)
	if got.EngineName() != EngineValkey {
		t.Errorf("EngineName() = %q, want valkey", got.EngineName())
	}
	if got.Addr() != "[::1]:4000" {
		t.Errorf("Addr() = %q, want [::1]:4000", got.Addr())
	}
}

func TestEngineName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		EngineSQLite: EngineSQLite,
		EngineValkey: EngineValkey,
		EngineBullMQ: EngineValkey,
	}
	for engine, want := range tests {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			got, err := Load(LoadOptions{Home: b.home, Env: []string{"CLAUDE_MEM_QUEUE_ENGINE=" + engine}})
			if err != nil {
				t.Fatal(err)
			}
			if got.Queue.Engine != engine {
				t.Errorf("Queue.Engine = %q, want %q as written", got.Queue.Engine, engine)
			}
			if got.EngineName() != want {
				t.Errorf("EngineName() = %q, want %q", got.EngineName(), want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()

	plugin := ExternalPlugin{Kind: KindQueue, Name: "q", Path: "/p/q", SHA256: sum}
	tests := map[string]struct {
		modify func(c *Config)
		want   string // "" for valid
	}{
		"defaults":         {modify: func(*Config) {}},
		"valkey":           {modify: func(c *Config) { c.Queue.Engine = EngineValkey }},
		"bullmq":           {modify: func(c *Config) { c.Queue.Engine = EngineBullMQ }},
		"external plugin":  {modify: func(c *Config) { c.Plugins.External = []ExternalPlugin{plugin} }},
		"empty data dir":   {modify: func(c *Config) { c.DataDir = "" }, want: "data_dir is empty"},
		"empty host":       {modify: func(c *Config) { c.Server.Host = "" }, want: "server.host is empty"},
		"port zero":        {modify: func(c *Config) { c.Server.Port = 0 }, want: "between 1 and 65535"},
		"port too big":     {modify: func(c *Config) { c.Server.Port = 65536 }, want: "between 1 and 65535"},
		"body size":        {modify: func(c *Config) { c.Server.MaxBodyBytes = 0 }, want: "server.max_body_bytes"},
		"shutdown timeout": {modify: func(c *Config) { c.Server.ShutdownTimeout = 0 }, want: "server.shutdown_timeout"},
		"engine": {
			modify: func(c *Config) { c.Queue.Engine = "redis" },
			want:   `queue.engine "redis" is not supported; set CLAUDE_MEM_QUEUE_ENGINE (or queue.engine) to sqlite or valkey`,
		},
		"empty engine": {modify: func(c *Config) { c.Queue.Engine = "" }, want: "sqlite or valkey"},
		"engine case":  {modify: func(c *Config) { c.Queue.Engine = "SQLite" }, want: "sqlite or valkey"},
		"redis url scheme": {
			modify: func(c *Config) { c.Queue.Engine = EngineValkey; c.Queue.RedisURL = "http://h" },
			want:   `scheme "http" is not redis, rediss or unix`,
		},
		"redis url ignored for sqlite": {modify: func(c *Config) { c.Queue.RedisURL = "http://h" }},
		"redis url unparsable": {
			modify: func(c *Config) { c.Queue.Engine = EngineValkey; c.Queue.RedisURL = "redis://:sec ret@h:x" },
			want:   "not a valid url",
		},
		"empty prefix": {
			modify: func(c *Config) { c.Queue.Engine = EngineValkey; c.Queue.RedisPrefix = "" },
			want:   "queue.redis_prefix is empty",
		},
		"concurrency": {
			modify: func(c *Config) { c.Queue.Concurrency = 0 },
			want:   "queue.concurrency 0 is less than 1; set CLAUDE_MEM_QUEUE_CONCURRENCY",
		},
		"lock duration": {modify: func(c *Config) { c.Queue.LockDuration = -time.Second }, want: "queue.lock_duration"},
		"auth mode": {
			modify: func(c *Config) { c.Auth.Mode = "none" },
			want:   `auth.mode "none" is not supported; set CLAUDE_MEM_AUTH_MODE (or auth.mode) to local or api-key`,
		},
		"rate limit": {
			modify: func(c *Config) { c.Auth.RateLimitPerMinute = -1 },
			want:   "auth.rate_limit_per_minute -1 is negative",
		},
		"audit retention": {
			modify: func(c *Config) { c.Auth.AuditRetention = time.Hour },
			want:   "auth.audit_retention 1h0m0s is too short; set it to 0 (keep forever) or at least 24h0m0s",
		},
		"log level": {
			modify: func(c *Config) { c.Log.Level = "verbose" },
			want:   `log.level "verbose" is not supported; set CLAUDE_MEM_LOG_LEVEL (or log.level) to trace, debug, info, warn or error`,
		},
		"start timeout": {modify: func(c *Config) { c.Plugins.StartTimeout = 0 }, want: "plugins.start_timeout"},
		"plugin kind": {
			modify: func(c *Config) { p := plugin; p.Kind = "storage"; c.Plugins.External = []ExternalPlugin{p} },
			want:   `plugins.external[0].kind "storage" is not supported; set it to queue, auth or adapter`,
		},
		"plugin empty name": {
			modify: func(c *Config) { p := plugin; p.Name = ""; c.Plugins.External = []ExternalPlugin{p} },
			want:   `plugins.external[0].name "" is not valid`,
		},
		"plugin name leading dash": {
			modify: func(c *Config) { p := plugin; p.Name = "-q"; c.Plugins.External = []ExternalPlugin{p} },
			want:   `plugins.external[0].name "-q" is not valid`,
		},
		"plugin name uppercase": {
			modify: func(c *Config) { p := plugin; p.Name = "Q"; c.Plugins.External = []ExternalPlugin{p} },
			want:   `name "Q" is not valid`,
		},
		"plugin duplicate": {
			modify: func(c *Config) { c.Plugins.External = []ExternalPlugin{plugin, plugin} },
			want:   `plugins.external[1] repeats the queue plugin "q" of plugins.external[0]`,
		},
		"same name, other kind": {
			modify: func(c *Config) { p := plugin; p.Kind = KindAuth; c.Plugins.External = []ExternalPlugin{plugin, p} },
		},
		"plugin path": {
			modify: func(c *Config) { p := plugin; p.Path = ""; c.Plugins.External = []ExternalPlugin{p} },
			want:   "plugins.external[0].path is empty",
		},
		"plugin sha256 short": {
			modify: func(c *Config) { p := plugin; p.SHA256 = sum[:63]; c.Plugins.External = []ExternalPlugin{p} },
			want:   "plugins.external[0].sha256 must be 64 hex digits",
		},
		"plugin sha256 not hex": {
			modify: func(c *Config) { p := plugin; p.SHA256 = "g" + sum[1:]; c.Plugins.External = []ExternalPlugin{p} },
			want:   "plugins.external[0].sha256 must be 64 hex digits",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := Default("/home/u")
			tt.modify(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			assertErrContains(t, err, tt.want)
			if strings.Contains(err.Error(), ":sec ret@") {
				t.Errorf("error %q leaks the redis password", err)
			}
		})
	}
}

func TestGenerationAndPrivacyEnv(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	got, err := Load(LoadOptions{Home: home, Env: []string{
		"CLAUDE_MEM_GENERATION_PROVIDER=openai", "CLAUDE_MEM_GENERATION_API_KEY=sk-test",
		"CLAUDE_MEM_SKIP_TOOLS=Read,Glob", "CLAUDE_MEM_EXCLUDED_PROJECTS=~/secret/**,scratch",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Generation.Provider != ProviderOpenAI || got.Generation.APIKey != "sk-test" {
		t.Errorf("generation = %+v", got.Generation)
	}
	if strings.Join(got.Privacy.SkipTools, "|") != "Read|Glob" || len(got.Privacy.ExcludedProjects) != 2 {
		t.Errorf("privacy = %+v", got.Privacy)
	}
	_, err = Load(LoadOptions{Home: home, Env: []string{"CLAUDE_MEM_GENERATION_PROVIDER=anthropic"}})
	if err == nil || !strings.Contains(err.Error(), "CLAUDE_MEM_GENERATION_API_KEY") {
		t.Errorf("a model provider without a key: err = %v", err)
	}
	_, err = Load(LoadOptions{Home: home, Env: []string{"CLAUDE_MEM_GENERATION_PROVIDER=gemini"}})
	if err == nil || !strings.Contains(err.Error(), "heuristic") {
		t.Errorf("unknown provider: err = %v", err)
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	got := Default("/home/u")
	port := defaultPort(os.Getuid())
	want := Config{
		DataDir: filepath.Join("/home/u", ".claude-mem"),
		Server:  Server{Host: "127.0.0.1", Port: port, MaxBodyBytes: 4 << 20, ShutdownTimeout: 10 * time.Second},
		Queue: Queue{
			Engine: "sqlite", RedisURL: "redis://127.0.0.1:6379/0", RedisPrefix: "claude_mem_" + strconv.Itoa(port),
			Concurrency: 2, LockDuration: 5 * time.Minute,
		},
		Auth:    Auth{Mode: "local", RateLimitPerMinute: 600, AuditRetention: 90 * 24 * time.Hour},
		Log:     Log{Level: "info"},
		Plugins: Plugins{Dir: filepath.Join("/home/u", ".claude-mem", "plugins"), StartTimeout: 5 * time.Second},
		Generation: Generation{
			Provider: ProviderHeuristic, MaxInputChars: 16000, BatchSize: 10, Timeout: time.Minute,
			Budget: Budget{DailyTokens: 2_000_000, ProjectDailyTokens: 500_000, JobTokens: 120_000, FallbackToHeuristic: true},
		},
		Privacy: Privacy{SkipTools: []string{"ListMcpResourcesTool", "SlashCommand", "Skill", "TodoWrite", "AskUserQuestion"}},
		Context: Context{MaxTokens: 6000, PromptMaxTokens: 1500},
	}
	assertConfig(t, want, got)
	if err := got.Validate(); err != nil {
		t.Errorf("Default does not validate: %v", err)
	}
	if got.ConfigFile() != filepath.Join("/home/u", ".claude-mem", "config.yaml") {
		t.Errorf("ConfigFile() = %q", got.ConfigFile())
	}
	if got.Addr() != "127.0.0.1:"+strconv.Itoa(port) {
		t.Errorf("Addr() = %q", got.Addr())
	}
}

func TestDefaultPort(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ uid, want int }{
		"windows": {uid: -1, want: 37777},
		"root":    {uid: 0, want: 37700},
		"1000":    {uid: 1000, want: 37700},
		"1042":    {uid: 1042, want: 37742},
		"99":      {uid: 99, want: 37799},
		"501":     {uid: 501, want: 37701},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := defaultPort(tt.uid); got != tt.want {
				t.Errorf("defaultPort(%d) = %d, want %d", tt.uid, got, tt.want)
			}
		})
	}
}

func TestTildeExpansion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.write(t, "d/config.yaml", `
plugins:
  dir: plug
  external:
    - {kind: auth, name: a, path: ~/bin/a, sha256: `+sum+`}
    - {kind: auth, name: b, path: b, sha256: `+sum+`}
log:
  file: ~
`)
	got, err := Load(LoadOptions{Home: b.home, Env: []string{"CLAUDE_MEM_DATA_DIR=~/d"}})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]string{
		"DataDir":     {got.DataDir, filepath.Join(b.home, "d")},
		"Plugins.Dir": {got.Plugins.Dir, filepath.Join(b.home, "d", "plug")},
		"external a":  {got.Plugins.External[0].Path, filepath.Join(b.home, "bin", "a")},
		"external b":  {got.Plugins.External[1].Path, filepath.Join(b.home, "d", "plug", "b")},
		"Log.File":    {got.Log.File, ""}, // YAML ~ is null, not the home directory
		"ConfigFile":  {got.ConfigFile(), filepath.Join(b.home, "d", "config.yaml")},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}

	t.Run("bare tilde", func(t *testing.T) {
		t.Parallel()
		got, err := Load(LoadOptions{Home: b.home, Env: []string{"CLAUDE_MEM_DATA_DIR=~", "CLAUDE_MEM_PLUGINS_DIR=~/p"}})
		if err != nil {
			t.Fatal(err)
		}
		if got.DataDir != b.home || got.Plugins.Dir != filepath.Join(b.home, "p") {
			t.Errorf("DataDir, Plugins.Dir = %q, %q; want %q, %q", got.DataDir, got.Plugins.Dir, b.home, filepath.Join(b.home, "p"))
		}
	})
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ url, want string }{
		"password only":    {url: "redis://:s3cret@h:6379/0", want: "redis://:xxxxx@h:6379/0"},
		"user and pass":    {url: "rediss://user:s3cret@h:6379", want: "rediss://user:xxxxx@h:6379"},
		"no credentials":   {url: "redis://127.0.0.1:6379/0", want: "redis://127.0.0.1:6379/0"},
		"user only":        {url: "redis://user@h", want: "redis://user@h"},
		"unparsable":       {url: "redis://:s3cret@h:port%zz", want: "redis://xxxxx@h:port%zz"},
		"no scheme":        {url: "user:s3cret@h:6379", want: "xxxxx@h:6379"},
		"empty":            {url: "", want: ""},
		"unix socket path": {url: "unix:///run/valkey.sock", want: "unix:///run/valkey.sock"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := Default("/home/u")
			c.Queue.RedisURL = tt.url
			c.Plugins.External = []ExternalPlugin{{Kind: KindQueue, Name: "q", Path: "/q", SHA256: sum}}
			r := c.Redacted()
			if r.Queue.RedisURL != tt.want {
				t.Errorf("Redacted RedisURL = %q, want %q", r.Queue.RedisURL, tt.want)
			}
			if strings.Contains(r.Queue.RedisURL, "s3cret") {
				t.Errorf("Redacted RedisURL %q leaks the password", r.Queue.RedisURL)
			}
			if c.Queue.RedisURL != tt.url {
				t.Errorf("Redacted changed the original to %q", c.Queue.RedisURL)
			}
			r.Plugins.External[0].Name = "changed"
			if c.Plugins.External[0].Name != "q" {
				t.Error("Redacted shares Plugins.External with the original")
			}
		})
	}
}

func TestEnvVarsTable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, e := range EnvVars {
		if !strings.HasPrefix(e.Name, "CLAUDE_MEM_") || e.Key == "" || e.Help == "" {
			t.Errorf("incomplete entry %+v", e)
		}
		if seen[e.Name] {
			t.Errorf("%s listed twice", e.Name)
		}
		seen[e.Name] = true
		if u := unknownKeys(nest(e.Key, "x")); len(u) > 0 {
			t.Errorf("%s maps to unknown key %q", e.Name, e.Key)
		}
	}
}

// nest turns "a.b" and v into {a: {b: v}}.
func nest(key string, v any) map[string]any {
	parts := strings.Split(key, ".")
	m := map[string]any{parts[len(parts)-1]: v}
	for i := len(parts) - 2; i >= 0; i-- {
		m = map[string]any{parts[i]: m}
	}
	return m
}

func FuzzLoadYAML(f *testing.F) {
	seeds := []string{
		"",
		"server: {port: 4000}\n",
		"server:\n  prot: 1\n",
		"server.port: 1\n",
		"queue: {engine: bullmq, concurrency: '3', lock_duration: 1m}\n",
		"plugins:\n  external:\n    - {kind: queue, name: q, path: q, sha256: " + sum + "}\n",
		"plugins: {external: [1, [2], {kind: x}]}\n",
		"data_dir: ~/x\nlog: {file: ~/l, level: trace}\n",
		"server: {port: 1e30, max_body_bytes: -1, shutdown_timeout: 1.5}\n",
		"? [a, b]\n: c\n",
		"a: &x {b: *x}\n",
		"- 1\n- 2\n",
		"1: 2\nserver: {3: 4}\n",
		"server: {host: 2001-12-14}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	home := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(LoadOptions{Home: home, ConfigFile: path})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("error %q lacks the \"config: \" prefix", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Load returned a config that does not validate: %v", err)
		}
	})
}
