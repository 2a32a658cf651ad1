// Package config implements the layered configuration of the host.
//
// A [Config] is built by [Load] from four layers, lowest first:
//
//  1. the defaults ([Default]);
//  2. the YAML config file, <data_dir>/config.yaml unless
//     [LoadOptions.ConfigFile] names another one;
//  3. the environment variables listed in [EnvVars];
//  4. the command-line flags named in [LoadOptions.FlagKeys] that the user
//     actually set.
//
// Decoding is strict: an unknown key in the config file is an error that
// names the key, and so is a value of the wrong type. [Config.Validate] then
// checks the values together; [Load] calls it before returning.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Queue engines accepted in Queue.Engine. EngineBullMQ is an alias of
// EngineValkey, kept because the TypeScript claude-mem calls it that.
const (
	EngineSQLite = "sqlite"
	EngineValkey = "valkey"
	EngineBullMQ = "bullmq"
)

// Auth modes accepted in Auth.Mode.
const (
	ProviderHeuristic = "heuristic"
	ProviderAnthropic = "anthropic"
	ProviderOpenAI    = "openai"
)

// DefaultSkipTools are the tools whose events claude-mem does not store.
var DefaultSkipTools = []string{"ListMcpResourcesTool", "SlashCommand", "Skill", "TodoWrite", "AskUserQuestion"}

// Authentication modes.
const (
	AuthLocal  = "local"
	AuthAPIKey = "api-key"
)

// Kinds accepted in ExternalPlugin.Kind.
const (
	KindQueue   = "queue"
	KindAuth    = "auth"
	KindAdapter = "adapter"
)

// Default values that do not depend on the home directory or the user.
const (
	DefaultHost            = "127.0.0.1"
	DefaultMaxBodyBytes    = 4 << 20 // 4 MiB
	DefaultShutdownTimeout = 10 * time.Second
	DefaultRedisURL        = "redis://127.0.0.1:6379/0"
	DefaultConcurrency     = 2
	DefaultLockDuration    = 5 * time.Minute
	DefaultLogLevel        = "info"
	DefaultStartTimeout    = 5 * time.Second
	DefaultRateLimit       = 600
	DefaultAuditRetention  = 90 * 24 * time.Hour
	// MinAuditRetention is the shortest retention: the audit log refuses
	// to delete younger rows.
	MinAuditRetention = 24 * time.Hour

	DefaultContextTokens       = 6000
	DefaultPromptContextTokens = 1500

	DefaultMaxInputChars      = 16000
	DefaultBatchSize          = 10
	DefaultGenerationTimeout  = 60 * time.Second
	DefaultDailyTokens        = 2_000_000
	DefaultProjectDailyTokens = 500_000
	DefaultJobTokens          = 120_000

	// DefaultDataDirName is the data directory's name under the home
	// directory.
	DefaultDataDirName = ".claude-mem"
	// ConfigFileName is the config file's name inside the data directory.
	ConfigFileName = "config.yaml"
)

var (
	engines    = []string{EngineSQLite, EngineValkey, EngineBullMQ}
	providers  = []string{ProviderHeuristic, ProviderAnthropic, ProviderOpenAI}
	authModes  = []string{AuthLocal, AuthAPIKey}
	logLevels  = []string{"trace", "debug", "info", "warn", "error"}
	kinds      = []string{KindQueue, KindAuth, KindAdapter}
	pluginName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	sha256Hex  = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
)

// Config is the host's whole configuration.
type Config struct {
	// DataDir holds the database, the logs, the plugins and the config file.
	// Default: ~/.claude-mem. A leading ~ is expanded and a relative path is
	// made absolute against the working directory.
	DataDir string `koanf:"data_dir"`
	// Server configures the HTTP listener.
	Server Server `koanf:"server"`
	// Queue configures the job queue.
	Queue Queue `koanf:"queue"`
	// Auth configures how requests are authenticated.
	Auth Auth `koanf:"auth"`
	// Log configures logging.
	Log Log `koanf:"log"`
	// Plugins configures plugin discovery and the external plugins.
	Plugins Plugins `koanf:"plugins"`
	// Generation configures how observations and summaries are generated.
	Generation Generation `koanf:"generation"`
	// Privacy configures what is stripped, redacted or skipped before
	// anything is stored or sent to a model.
	Privacy Privacy `koanf:"privacy"`
	// Context configures the memory handed back to agents.
	Context Context `koanf:"context"`

	// configFile is the config file Load consulted (it may not exist).
	configFile string
}

// Server configures the HTTP listener.
type Server struct {
	// Host is the address to listen on. Default: 127.0.0.1. Use 0.0.0.0 or
	// :: to listen on every interface; empty is rejected.
	Host string `koanf:"host"`
	// Port is the TCP port. Default: 37700 + uid%100, so that users sharing
	// a machine get different ports; 37777 where there are no uids
	// (Windows).
	Port int `koanf:"port"`
	// MaxBodyBytes caps a request body. Default: 4 MiB.
	MaxBodyBytes int64 `koanf:"max_body_bytes"`
	// ShutdownTimeout bounds a graceful shutdown. Default: 10s.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
}

// Queue configures the job queue.
type Queue struct {
	// Engine is "sqlite", "valkey", or "bullmq" (an alias of valkey).
	// Default: sqlite. See Config.EngineName for the canonical name.
	Engine string `koanf:"engine"`
	// RedisURL locates Valkey/Redis when Engine is valkey.
	// Default: redis://127.0.0.1:6379/0.
	RedisURL string `koanf:"redis_url"`
	// RedisPrefix namespaces the queue's keys. Default (also when empty):
	// claude_mem_<server.port>.
	RedisPrefix string `koanf:"redis_prefix"`
	// Concurrency is the number of generation workers. Default: 2.
	Concurrency int `koanf:"concurrency"`
	// LockDuration is how long a worker holds a job before another may take
	// it over. Default: 5m.
	LockDuration time.Duration `koanf:"lock_duration"`
}

// Auth configures how requests are authenticated and limited.
type Auth struct {
	// Mode is "local" (trust the local user) or "api-key". Default: local.
	// In local mode a request from loopback, with a loopback Host header,
	// no X-Forwarded-* header and no key acts as the owner of the local
	// team; a server on a non-loopback address refuses to start in it.
	Mode string `koanf:"mode"`
	// RateLimitPerMinute is each API key's token-bucket rate, and its
	// burst; a key past it is answered 429 with Retry-After. 0 disables
	// the limit. Default: 600.
	RateLimitPerMinute int `koanf:"rate_limit_per_minute"`
	// AuditRetention is how long audit log entries are kept: 0 keeps them
	// forever, else at least 24h. Default: 2160h (90 days).
	AuditRetention time.Duration `koanf:"audit_retention"`
}

// Log configures logging.
type Log struct {
	// Level is trace, debug, info, warn or error. Default: info.
	Level string `koanf:"level"`
	// File is where a daemonized server logs. Default: empty, which means
	// <data_dir>/logs/server.log when daemonized. A leading ~ is expanded and
	// a relative path is resolved against DataDir.
	File string `koanf:"file"`
}

// Plugins configures plugin discovery and the external plugins.
type Plugins struct {
	// Dir holds plugin binaries. Default (also when empty):
	// <data_dir>/plugins. A leading ~ is expanded and a relative path is
	// resolved against DataDir.
	Dir string `koanf:"dir"`
	// StartTimeout bounds a plugin's start-up handshake. Default: 5s.
	StartTimeout time.Duration `koanf:"start_timeout"`
	// External lists the plugin binaries to launch. Default: none.
	External []ExternalPlugin `koanf:"external"`
}

// Generation configures the provider that turns events into observations
// and summaries, and the budgets that bound its spend.
type Generation struct {
	// Provider is heuristic (no network, no key), anthropic (Messages API)
	// or openai (Chat Completions: OpenAI, OpenRouter, Ollama, LM Studio).
	// Default: heuristic.
	Provider string `koanf:"provider"`
	// Model is the model name. Default: the provider's default
	// (claude-haiku-4-5-20251001 for anthropic, gpt-4o-mini for openai).
	Model string `koanf:"model"`
	// BaseURL overrides the provider's API base URL. Default: the
	// provider's public endpoint.
	BaseURL string `koanf:"base_url"`
	// APIKey authenticates to the provider. Default: empty. Prefer the
	// environment (CLAUDE_MEM_GENERATION_API_KEY) to the config file.
	APIKey string `koanf:"api_key"`
	// MaxInputChars caps each tool input and output sent to a model; longer
	// ones keep their head and tail. Default: 16000.
	MaxInputChars int `koanf:"max_input_chars"`
	// BatchSize is the most pending events of one session sent in one call.
	// Default: 10.
	BatchSize int `koanf:"batch_size"`
	// Timeout bounds one provider call. Default: 60s.
	Timeout time.Duration `koanf:"timeout"`
	// Budget bounds token spend.
	Budget Budget `koanf:"budget"`
}

// Budget bounds provider token spend. A limit of 0 means no limit.
type Budget struct {
	// DailyTokens caps tokens per UTC day, server-wide. Default: 2000000.
	DailyTokens int64 `koanf:"daily_tokens"`
	// ProjectDailyTokens caps tokens per project per UTC day.
	// Default: 500000.
	ProjectDailyTokens int64 `koanf:"project_daily_tokens"`
	// JobTokens caps the tokens one job may spend. Default: 120000, which
	// fits a full batch of 10 events at the default input cap.
	JobTokens int64 `koanf:"job_tokens"`
	// FallbackToHeuristic switches to the heuristic provider when a budget
	// is hit, instead of failing the job. Default: true.
	FallbackToHeuristic bool `koanf:"fallback_to_heuristic"`
}

// Context bounds the memory handed back to agents in hook replies. Tokens
// are estimated as ceil(characters/4); a pack never exceeds its budget.
type Context struct {
	// MaxTokens bounds the SessionStart context. Default: 6000.
	MaxTokens int `koanf:"max_tokens"`
	// PromptMaxTokens bounds the memory relevant to a prompt, added on
	// UserPromptSubmit. 0 turns that injection off. Default: 1500.
	PromptMaxTokens int `koanf:"prompt_max_tokens"`
}

// Privacy configures what never reaches the store or a model.
type Privacy struct {
	// RedactPatterns are extra regular expressions whose matches are
	// replaced by a [REDACTED:custom] placeholder, on top of the built-in
	// patterns (API keys, bearer tokens, AWS keys, private keys,
	// password=... pairs). Default: none.
	RedactPatterns []string `koanf:"redact_patterns"`
	// SkipTools lists tool names whose events are not stored. Default:
	// ListMcpResourcesTool, SlashCommand, Skill, TodoWrite, AskUserQuestion.
	SkipTools []string `koanf:"skip_tools"`
	// ExcludedProjects are globs (*, **, ?, ~) matched against a session's
	// working directory and its base name; matching sessions are not
	// stored. Default: none.
	ExcludedProjects []string `koanf:"excluded_projects"`
}

// ExternalPlugin is a plugin binary the host launches.
type ExternalPlugin struct {
	// Kind is queue, auth or adapter. Required.
	Kind string `koanf:"kind"`
	// Name identifies the plugin; it matches ^[a-z0-9][a-z0-9-]*$. Required.
	Name string `koanf:"name"`
	// Path is the binary. A leading ~ is expanded and a relative path is
	// resolved against Plugins.Dir. Required.
	Path string `koanf:"path"`
	// SHA256 is the binary's expected SHA-256 as 64 hex digits; Load
	// lower-cases it. Required.
	SHA256 string `koanf:"sha256"`
}

// Default returns the defaults, with the data directory under home.
// It is the lowest layer of Load.
func Default(home string) Config {
	c := staticDefaults(home)
	c.fillDerived()
	return c
}

// staticDefaults returns the defaults that do not depend on other settings.
// The derived ones (Plugins.Dir, Queue.RedisPrefix) are left empty for
// fillDerived, so that they follow data_dir and server.port from any layer.
func staticDefaults(home string) Config {
	dataDir := ""
	if home != "" {
		dataDir = filepath.Join(home, DefaultDataDirName)
	}
	return Config{
		DataDir: dataDir,
		Server: Server{
			Host:            DefaultHost,
			Port:            defaultPort(os.Getuid()),
			MaxBodyBytes:    DefaultMaxBodyBytes,
			ShutdownTimeout: DefaultShutdownTimeout,
		},
		Queue: Queue{
			Engine:       EngineSQLite,
			RedisURL:     DefaultRedisURL,
			Concurrency:  DefaultConcurrency,
			LockDuration: DefaultLockDuration,
		},
		Auth:    Auth{Mode: AuthLocal, RateLimitPerMinute: DefaultRateLimit, AuditRetention: DefaultAuditRetention},
		Log:     Log{Level: DefaultLogLevel},
		Plugins: Plugins{StartTimeout: DefaultStartTimeout},
		Generation: Generation{
			Provider:      ProviderHeuristic,
			MaxInputChars: DefaultMaxInputChars,
			BatchSize:     DefaultBatchSize,
			Timeout:       DefaultGenerationTimeout,
			Budget: Budget{
				DailyTokens:         DefaultDailyTokens,
				ProjectDailyTokens:  DefaultProjectDailyTokens,
				JobTokens:           DefaultJobTokens,
				FallbackToHeuristic: true,
			},
		},
		Privacy: Privacy{SkipTools: append([]string(nil), DefaultSkipTools...)},
		Context: Context{MaxTokens: DefaultContextTokens, PromptMaxTokens: DefaultPromptContextTokens},
	}
}

// fillDerived fills the defaults that depend on other settings.
func (c *Config) fillDerived() {
	if c.Plugins.Dir == "" && c.DataDir != "" {
		c.Plugins.Dir = filepath.Join(c.DataDir, "plugins")
	}
	if c.Queue.RedisPrefix == "" {
		c.Queue.RedisPrefix = "claude_mem_" + strconv.Itoa(c.Server.Port)
	}
}

// defaultPort is 37700 + uid%100, or 37777 when uid is negative (os.Getuid
// returns -1 on Windows).
func defaultPort(uid int) int {
	if uid < 0 {
		return 37777
	}
	return 37700 + uid%100
}

// EngineName returns the canonical queue engine: "sqlite" or "valkey"
// ("bullmq" is reported as "valkey"). An engine Validate would reject is
// returned unchanged.
func (c Config) EngineName() string {
	if c.Queue.Engine == EngineBullMQ {
		return EngineValkey
	}
	return c.Queue.Engine
}

// Addr returns the listen address, host:port, with an IPv6 host bracketed.
func (c Config) Addr() string {
	return net.JoinHostPort(c.Server.Host, strconv.Itoa(c.Server.Port))
}

// ConfigFile returns the config file Load consulted, which may not exist when
// it is the default one. For a Config that did not come from Load it is
// <data_dir>/config.yaml.
func (c Config) ConfigFile() string {
	if c.configFile != "" {
		return c.configFile
	}
	if c.DataDir == "" {
		return ""
	}
	return filepath.Join(c.DataDir, ConfigFileName)
}

// Redacted returns a copy of c that is safe to log or print: the password
// in Queue.RedisURL and the generation API key are replaced by "xxxxx".
func (c Config) Redacted() Config {
	c.Queue.RedisURL = redactURL(c.Queue.RedisURL)
	if c.Generation.APIKey != "" {
		c.Generation.APIKey = "xxxxx"
	}
	c.Plugins.External = append([]ExternalPlugin(nil), c.Plugins.External...)
	return c
}

// redactURL hides the password in a URL. It fails closed: when s does not
// parse as a URL with an authority, everything before the last "@" (after
// the scheme) is hidden.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err == nil && u.Opaque == "" {
		return u.Redacted()
	}
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		start = i + len("://")
	}
	return s[:start] + "xxxxx" + s[at:]
}

// Validate reports the first problem with c, as an error saying what to
// change. Load calls it.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("config: data_dir is empty; set CLAUDE_MEM_DATA_DIR or data_dir to a directory")
	}
	if c.Server.Host == "" {
		return fmt.Errorf("config: server.host is empty; set %s to an address such as 127.0.0.1 (or 0.0.0.0 for every interface)", hint("server.host"))
	}
	if c.Server.Port < 1 || c.Server.Port > 65535 {
		return fmt.Errorf("config: server.port %d is out of range; set %s to a port between 1 and 65535", c.Server.Port, hint("server.port"))
	}
	if c.Server.MaxBodyBytes <= 0 {
		return fmt.Errorf("config: server.max_body_bytes %d is not positive; set it to a byte count such as %d", c.Server.MaxBodyBytes, DefaultMaxBodyBytes)
	}
	if c.Server.ShutdownTimeout <= 0 {
		return fmt.Errorf("config: server.shutdown_timeout %s is not positive; set it to a duration such as %q", c.Server.ShutdownTimeout, DefaultShutdownTimeout.String())
	}

	if !slices.Contains(engines, c.Queue.Engine) {
		return fmt.Errorf("config: queue.engine %q is not supported; set %s to sqlite or valkey (bullmq is an alias of valkey)", c.Queue.Engine, hint("queue.engine"))
	}
	if c.EngineName() == EngineValkey {
		if err := validRedisURL(c.Queue.RedisURL); err != nil {
			return fmt.Errorf("config: queue.redis_url %q: %w; set %s to a URL such as %s", redactURL(c.Queue.RedisURL), err, hint("queue.redis_url"), DefaultRedisURL)
		}
		if c.Queue.RedisPrefix == "" {
			return fmt.Errorf("config: queue.redis_prefix is empty; set %s to a key prefix", hint("queue.redis_prefix"))
		}
	}
	if c.Queue.Concurrency < 1 {
		return fmt.Errorf("config: queue.concurrency %d is less than 1; set %s to 1 or more", c.Queue.Concurrency, hint("queue.concurrency"))
	}
	if c.Queue.LockDuration <= 0 {
		return fmt.Errorf("config: queue.lock_duration %s is not positive; set it to a duration such as %q", c.Queue.LockDuration, DefaultLockDuration.String())
	}

	if !slices.Contains(authModes, c.Auth.Mode) {
		return fmt.Errorf("config: auth.mode %q is not supported; set %s to %s", c.Auth.Mode, hint("auth.mode"), orList(authModes))
	}
	if c.Auth.RateLimitPerMinute < 0 {
		return fmt.Errorf("config: auth.rate_limit_per_minute %d is negative; set it to 0 (no limit) or a number of requests such as %d", c.Auth.RateLimitPerMinute, DefaultRateLimit)
	}
	if r := c.Auth.AuditRetention; r < 0 || (r > 0 && r < MinAuditRetention) {
		return fmt.Errorf("config: auth.audit_retention %s is too short; set it to 0 (keep forever) or at least %s", r, MinAuditRetention)
	}
	if !slices.Contains(logLevels, c.Log.Level) {
		return fmt.Errorf("config: log.level %q is not supported; set %s to %s", c.Log.Level, hint("log.level"), orList(logLevels))
	}

	if !slices.Contains(providers, c.Generation.Provider) {
		return fmt.Errorf("config: generation.provider %q is not supported; set %s to %s", c.Generation.Provider, hint("generation.provider"), orList(providers))
	}
	if c.Generation.Provider != ProviderHeuristic && c.Generation.APIKey == "" && c.Generation.BaseURL == "" {
		return fmt.Errorf("config: generation.provider %s needs an API key; set CLAUDE_MEM_GENERATION_API_KEY (or generation.base_url for a local server that needs none)", c.Generation.Provider)
	}
	if c.Generation.MaxInputChars < 256 {
		return fmt.Errorf("config: generation.max_input_chars %d is too small; set it to 256 or more (default %d)", c.Generation.MaxInputChars, DefaultMaxInputChars)
	}
	if c.Generation.BatchSize < 1 {
		return fmt.Errorf("config: generation.batch_size %d is less than 1; set it to 1 or more (default %d)", c.Generation.BatchSize, DefaultBatchSize)
	}
	if c.Generation.Timeout <= 0 {
		return fmt.Errorf("config: generation.timeout %s is not positive; set it to a duration such as %q", c.Generation.Timeout, DefaultGenerationTimeout.String())
	}
	if b := c.Generation.Budget; b.DailyTokens < 0 || b.ProjectDailyTokens < 0 || b.JobTokens < 0 {
		return errors.New("config: generation.budget limits must be 0 (no limit) or positive")
	}
	if c.Context.MaxTokens < 100 {
		return fmt.Errorf("config: context.max_tokens %d is too small; set CLAUDE_MEM_CONTEXT_MAX_TOKENS to 100 or more (default %d)", c.Context.MaxTokens, DefaultContextTokens)
	}
	if c.Context.PromptMaxTokens < 0 {
		return fmt.Errorf("config: context.prompt_max_tokens %d is negative; set it to 0 (off) or more (default %d)", c.Context.PromptMaxTokens, DefaultPromptContextTokens)
	}
	for _, p := range c.Privacy.RedactPatterns {
		if _, err := regexp.Compile(p); err != nil {
			return fmt.Errorf("config: privacy.redact_patterns: %q is not a valid regular expression: %w", p, err)
		}
	}

	if c.Plugins.StartTimeout <= 0 {
		return fmt.Errorf("config: plugins.start_timeout %s is not positive; set it to a duration such as %q", c.Plugins.StartTimeout, DefaultStartTimeout.String())
	}
	seen := make(map[string]int, len(c.Plugins.External))
	for i, p := range c.Plugins.External {
		at := fmt.Sprintf("plugins.external[%d]", i)
		if !slices.Contains(kinds, p.Kind) {
			return fmt.Errorf("config: %s.kind %q is not supported; set it to %s", at, p.Kind, orList(kinds))
		}
		if !pluginName.MatchString(p.Name) {
			return fmt.Errorf("config: %s.name %q is not valid; use lowercase letters, digits and dashes, starting with a letter or digit", at, p.Name)
		}
		id := p.Kind + "/" + p.Name
		if j, dup := seen[id]; dup {
			return fmt.Errorf("config: %s repeats the %s plugin %q of plugins.external[%d]; remove one or rename it", at, p.Kind, p.Name, j)
		}
		seen[id] = i
		if p.Path == "" {
			return fmt.Errorf("config: %s.path is empty; set it to the plugin binary (relative paths resolve against plugins.dir)", at)
		}
		if !sha256Hex.MatchString(p.SHA256) {
			return fmt.Errorf("config: %s.sha256 must be 64 hex digits; set it to the output of `sha256sum %s`", at, p.Path)
		}
	}
	return nil
}

func validRedisURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		// The url package quotes the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("not a valid url: %w", err)
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
		return nil
	default:
		return fmt.Errorf("scheme %q is not redis, rediss or unix", u.Scheme)
	}
}

// orList formats allowed values as "a, b or c".
func orList(allowed []string) string {
	if len(allowed) == 1 {
		return allowed[0]
	}
	return strings.Join(allowed[:len(allowed)-1], ", ") + " or " + allowed[len(allowed)-1]
}

// hint names where a key can be set: its primary environment variable if it
// has one, else the key itself.
func hint(key string) string {
	for _, e := range EnvVars {
		if e.Key == key {
			return e.Name + " (or " + key + ")"
		}
	}
	return key
}
