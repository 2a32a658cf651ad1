package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// EnvVar maps an environment variable to a config key.
type EnvVar struct {
	// Name is the variable, e.g. CLAUDE_MEM_SERVER_PORT.
	Name string
	// Key is the dotted config key it sets, e.g. server.port.
	Key string
	// Help is a one-line description for the README and the doctor.
	Help string
}

// EnvVars is the environment layer of Load: the only variables it reads.
//
//	CLAUDE_MEM_DATA_DIR            data_dir
//	CLAUDE_MEM_SERVER_HOST         server.host
//	CLAUDE_MEM_SERVER_PORT         server.port
//	CLAUDE_MEM_QUEUE_ENGINE        queue.engine
//	CLAUDE_MEM_REDIS_URL           queue.redis_url
//	CLAUDE_MEM_QUEUE_REDIS_PREFIX  queue.redis_prefix
//	CLAUDE_MEM_QUEUE_CONCURRENCY   queue.concurrency
//	CLAUDE_MEM_AUTH_MODE           auth.mode
//	CLAUDE_MEM_LOG_LEVEL           log.level
//	CLAUDE_MEM_PLUGINS_DIR         plugins.dir
//	CLAUDE_MEM_WORKER_HOST         server.host, only if CLAUDE_MEM_SERVER_HOST is unset
//	CLAUDE_MEM_WORKER_PORT         server.port, only if CLAUDE_MEM_SERVER_PORT is unset
//
// When several variables set the same key, the first one listed wins; the
// CLAUDE_MEM_WORKER_* aliases, which the TypeScript claude-mem uses, come
// last for that reason. An empty value counts as unset. Values are strings
// and are converted to the key's type ("8080" to a port, "5m" to a
// duration); one that does not convert is an error naming the variable.
//
// Every other CLAUDE_MEM_* variable is ignored on purpose: the TypeScript
// claude-mem sets many that mean nothing here, and failing on them would
// break people switching over.
var EnvVars = []EnvVar{
	{Name: "CLAUDE_MEM_DATA_DIR", Key: "data_dir", Help: "data directory, also where config.yaml is looked for (default ~/.claude-mem)"},
	{Name: "CLAUDE_MEM_SERVER_HOST", Key: "server.host", Help: "address to listen on (default 127.0.0.1)"},
	{Name: "CLAUDE_MEM_SERVER_PORT", Key: "server.port", Help: "port to listen on (default 37700 + uid%100)"},
	{Name: "CLAUDE_MEM_QUEUE_ENGINE", Key: "queue.engine", Help: "queue engine: sqlite or valkey (bullmq is an alias of valkey)"},
	{Name: "CLAUDE_MEM_REDIS_URL", Key: "queue.redis_url", Help: "Valkey/Redis URL for the valkey engine (default " + DefaultRedisURL + ")"},
	{Name: "CLAUDE_MEM_QUEUE_REDIS_PREFIX", Key: "queue.redis_prefix", Help: "key prefix for the valkey engine (default claude_mem_<port>)"},
	{Name: "CLAUDE_MEM_QUEUE_CONCURRENCY", Key: "queue.concurrency", Help: "number of generation workers (default 2)"},
	{Name: "CLAUDE_MEM_AUTH_MODE", Key: "auth.mode", Help: "authentication: local or api-key (default local)"},
	{Name: "CLAUDE_MEM_LOG_LEVEL", Key: "log.level", Help: "log level: trace, debug, info, warn or error (default info)"},
	{Name: "CLAUDE_MEM_PLUGINS_DIR", Key: "plugins.dir", Help: "plugin directory (default <data_dir>/plugins)"},
	{Name: "CLAUDE_MEM_GENERATION_PROVIDER", Key: "generation.provider", Help: "generation provider: heuristic, anthropic or openai (default heuristic)"},
	{Name: "CLAUDE_MEM_GENERATION_MODEL", Key: "generation.model", Help: "model for the generation provider"},
	{Name: "CLAUDE_MEM_GENERATION_BASE_URL", Key: "generation.base_url", Help: "API base URL for the generation provider (OpenRouter, Ollama, LM Studio…)"},
	{Name: "CLAUDE_MEM_GENERATION_API_KEY", Key: "generation.api_key", Help: "API key for the generation provider"},
	{Name: "CLAUDE_MEM_CONTEXT_MAX_TOKENS", Key: "context.max_tokens", Help: "token budget of the SessionStart context (default 6000)"},
	{Name: "CLAUDE_MEM_SKIP_TOOLS", Key: "privacy.skip_tools", Help: "comma-separated tool names whose events are not stored"},
	{Name: "CLAUDE_MEM_EXCLUDED_PROJECTS", Key: "privacy.excluded_projects", Help: "comma-separated globs of project directories that are not stored"},
	{Name: "CLAUDE_MEM_WORKER_HOST", Key: "server.host", Help: "alias of CLAUDE_MEM_SERVER_HOST, used only when that is unset"},
	{Name: "CLAUDE_MEM_WORKER_PORT", Key: "server.port", Help: "alias of CLAUDE_MEM_SERVER_PORT, used only when that is unset"},
}

// LoadOptions are the inputs of Load. The zero value loads the defaults and
// the default config file of the current user.
type LoadOptions struct {
	// Env is the environment as os.Environ returns it. Nil means no
	// environment, which keeps tests hermetic. When a name repeats, the
	// last value wins.
	Env []string
	// Flags, if not nil, is the parsed flag set. Only flags the user set
	// (pflag's Changed) and that FlagKeys maps take part.
	Flags *pflag.FlagSet
	// FlagKeys maps a flag name to the config key it sets, e.g.
	// "port" -> "server.port" or "data-dir" -> "data_dir".
	FlagKeys map[string]string
	// Home expands a leading ~ and holds the default data directory.
	// Empty means os.UserHomeDir().
	Home string
	// ConfigFile is an explicit YAML config file, which must exist.
	// Empty means <data_dir>/config.yaml, which may be missing.
	ConfigFile string
}

// Load builds the configuration from its layers, lowest first: defaults,
// config file, environment (EnvVars), flags. It then resolves paths (see the
// field docs), fills the derived defaults and returns c.Validate().
//
// The config file is found before the layers are merged: it is
// opts.ConfigFile, or config.yaml in the data directory given by the
// defaults, CLAUDE_MEM_DATA_DIR and the flags (not by the file itself, which
// may still set data_dir for everything else).
//
// Errors start with "config: " and name the file, variable or flag and the
// key at fault.
func Load(opts LoadOptions) (Config, error) {
	home := opts.Home
	var homeErr error
	if home == "" {
		home, homeErr = os.UserHomeDir()
		if homeErr != nil {
			home = ""
		} else if home == "" {
			homeErr = errors.New("home directory is unknown")
		}
	}
	paths := pathResolver{home: home, homeErr: homeErr}

	env := envLayer(opts.Env)
	flags, err := flagLayer(opts.Flags, opts.FlagKeys)
	if err != nil {
		return Config{}, err
	}
	for _, l := range []*layer{env, flags} {
		if err := l.check(); err != nil {
			return Config{}, err
		}
	}

	// The data directory from defaults, environment and flags: it locates
	// the config file.
	dataDir := staticDefaults(home).DataDir
	for _, l := range []*layer{env, flags} {
		if l.k.Exists("data_dir") {
			dataDir = l.k.String("data_dir")
		}
	}
	if dataDir == "" && opts.ConfigFile == "" {
		if homeErr != nil {
			return Config{}, fmt.Errorf("config: no data directory: %w; set CLAUDE_MEM_DATA_DIR", homeErr)
		}
		return Config{}, errors.New("config: data_dir is empty; set CLAUDE_MEM_DATA_DIR or data_dir to a directory")
	}

	path, explicit := opts.ConfigFile, opts.ConfigFile != ""
	if explicit {
		path, err = paths.abs(path)
	} else {
		dataDir, err = paths.abs(dataDir)
		path = filepath.Join(dataDir, ConfigFileName)
	}
	if err != nil {
		return Config{}, err
	}
	cfgFile, err := fileLayer(path, explicit)
	if err != nil {
		return Config{}, err
	}
	if err := cfgFile.check(); err != nil {
		return Config{}, err
	}

	merged := koanf.New(".")
	for _, l := range []*layer{cfgFile, env, flags} {
		if err := merged.Merge(l.k); err != nil {
			return Config{}, fmt.Errorf("config: merge %s: %w", l.name, err)
		}
	}
	c := staticDefaults(home)
	if err := unmarshal(merged, &c); err != nil {
		// Unreachable in practice: every layer decoded on its own above.
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c.configFile = path

	if err := c.resolvePaths(paths); err != nil {
		return Config{}, err
	}
	for i := range c.Plugins.External {
		c.Plugins.External[i].SHA256 = strings.ToLower(c.Plugins.External[i].SHA256)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// resolvePaths expands ~ and makes the paths absolute: data_dir against the
// working directory, plugins.dir and log.file against data_dir, external
// plugin paths against plugins.dir. It fills the derived defaults on the way,
// since plugins.dir defaults to a directory under data_dir.
func (c *Config) resolvePaths(p pathResolver) error {
	var err error
	if c.DataDir != "" {
		if c.DataDir, err = p.abs(c.DataDir); err != nil {
			return err
		}
	}
	if c.Plugins.Dir, err = p.under(c.DataDir, c.Plugins.Dir); err != nil {
		return err
	}
	if c.Log.File, err = p.under(c.DataDir, c.Log.File); err != nil {
		return err
	}
	c.fillDerived()
	for i := range c.Plugins.External {
		ext := &c.Plugins.External[i]
		if ext.Path, err = p.under(c.Plugins.Dir, ext.Path); err != nil {
			return err
		}
	}
	return nil
}

// pathResolver expands a leading ~ to home.
type pathResolver struct {
	home    string
	homeErr error
}

func (p pathResolver) expand(path string) (string, error) {
	rest, ok := strings.CutPrefix(path, "~")
	if !ok || (rest != "" && rest[0] != '/' && rest[0] != filepath.Separator) {
		return path, nil // not ~ or ~/...; ~user is left alone
	}
	if p.home == "" {
		return "", fmt.Errorf("config: cannot expand ~ in %q: %w; use an absolute path", path, p.homeErr)
	}
	return filepath.Join(p.home, rest), nil
}

// abs expands ~ and makes path absolute against the working directory.
func (p pathResolver) abs(path string) (string, error) {
	path, err := p.expand(path)
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("config: resolve %q: %w", path, err)
	}
	return abs, nil
}

// under expands ~ and resolves a relative path against base. Empty stays
// empty, meaning "the default".
func (p pathResolver) under(base, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	path, err := p.expand(path)
	if err != nil {
		return "", err
	}
	if filepath.IsAbs(path) || base == "" {
		return filepath.Clean(path), nil
	}
	return filepath.Join(base, path), nil
}

// A layer is one source of settings, decoded and checked on its own so that
// an error can name the file, variable or flag it came from.
type layer struct {
	name string // "/x/config.yaml", "environment", "flags"
	file bool   // errors read "<file>: key ..." rather than "<source> (key)"
	k    *koanf.Koanf
	src  map[string]string // key -> variable or flag that set it
}

func envLayer(environ []string) *layer {
	values := make(map[string]string, len(environ))
	for _, kv := range environ {
		if name, value, ok := strings.Cut(kv, "="); ok {
			values[name] = value
		}
	}
	l := &layer{name: "environment", k: koanf.New("."), src: map[string]string{}}
	flat := map[string]any{}
	for _, e := range EnvVars {
		v := values[e.Name]
		if v == "" {
			continue
		}
		if _, set := flat[e.Key]; set {
			continue // an earlier variable, e.g. the non-alias, won
		}
		flat[e.Key] = v
		l.src[e.Key] = e.Name
	}
	// confmap never fails to load.
	_ = l.k.Load(confmap.Provider(flat, "."), nil)
	return l
}

func flagLayer(fs *pflag.FlagSet, keys map[string]string) (*layer, error) {
	l := &layer{name: "flags", k: koanf.New("."), src: map[string]string{}}
	if fs == nil {
		return l, nil
	}
	p := posflag.ProviderWithFlag(fs, ".", nil, func(f *pflag.Flag) (string, any) {
		key := keys[f.Name]
		if key == "" || !f.Changed {
			return "", nil
		}
		l.src[key] = "flag --" + f.Name
		return key, posflag.FlagVal(fs, f)
	})
	if err := l.k.Load(p, nil); err != nil {
		return nil, fmt.Errorf("config: read flags: %w", err)
	}
	return l, nil
}

func fileLayer(path string, explicit bool) (*layer, error) {
	l := &layer{name: path, file: true, k: koanf.New(".")}
	b, err := file.Provider(path).ReadBytes()
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return l, nil
		}
		return nil, fmt.Errorf("config: read config file: %w", err)
	}
	mp, err := yaml.Parser().Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	// Delimiter "": keys are taken as written, so a literal "server.port"
	// key stays one key and is reported, not silently nested.
	if err := l.k.Load(confmap.Provider(mp, ""), nil); err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return l, nil
}

// check reports unknown keys and values that do not decode.
func (l *layer) check() error {
	if unknown := unknownKeys(l.k.Raw()); len(unknown) > 0 {
		return l.unknownKeyError(unknown)
	}
	var scratch Config
	if err := unmarshal(l.k, &scratch); err != nil {
		return l.decodeError(err)
	}
	return nil
}

func (l *layer) unknownKeyError(unknown []unknownKey) error {
	parts := make([]string, len(unknown))
	for i, u := range unknown {
		parts[i] = strconv.Quote(u.key)
		if u.hint != "" {
			parts[i] += " (" + u.hint + ")"
		}
	}
	noun := "unknown key "
	if len(unknown) > 1 {
		noun = "unknown keys "
	}
	where := l.name
	if s, ok := l.src[unknown[0].key]; ok {
		where = s
	}
	return fmt.Errorf("config: %s: %s%s", where, noun, strings.Join(parts, ", "))
}

// decodeError rewrites a mapstructure error as one naming the source and
// the full key, keeping the original in the chain.
func (l *layer) decodeError(err error) error {
	de := innermostDecodeError(err)
	if de == nil {
		return fmt.Errorf("config: %s: %w", l.name, err)
	}
	key, problem := de.Name(), describe(de.Unwrap())
	if v := l.k.Get(key); v != nil && isScalar(v) && !strings.Contains(problem, quoteValue(v)) {
		problem = "invalid value " + quoteValue(v) + ": " + problem
	}
	var msg string
	switch s, ok := l.src[key]; {
	case l.file:
		msg = fmt.Sprintf("config: %s: key %q: %s", l.name, key, problem)
	case ok:
		msg = fmt.Sprintf("config: %s (%s): %s", s, key, problem)
	default:
		msg = fmt.Sprintf("config: %s: key %q: %s", l.name, key, problem)
	}
	return &wrapped{msg: msg, err: err}
}

// wrapped is an error with a rewritten message and the original cause.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

// innermostDecodeError returns the first DecodeError in err's tree that
// wraps no other one: its Name is the full dotted key.
func innermostDecodeError(err error) *mapstructure.DecodeError {
	var de *mapstructure.DecodeError
	if !errors.As(err, &de) {
		return nil
	}
	for {
		var inner *mapstructure.DecodeError
		if !errors.As(de.Unwrap(), &inner) {
			return de
		}
		de = inner
	}
}

// describe phrases a mapstructure cause for a person.
func describe(err error) string {
	var pe *mapstructure.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("cannot parse %s as %s", quoteValue(pe.Value), typeName(pe.Expected.Type()))
	}
	var ue *mapstructure.UnconvertibleTypeError
	if errors.As(err, &ue) {
		return fmt.Sprintf("expected %s, got %s", typeName(ue.Expected.Type()), valueKind(ue.Value))
	}
	return err.Error()
}

func isScalar(v any) bool {
	switch reflect.TypeOf(v).Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct, reflect.Pointer:
		return false
	}
	return true
}

func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return `a duration such as "10s"`
	case t.Kind() == reflect.Struct:
		return "a mapping"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "an integer"
	case t.Kind() == reflect.String:
		return "a string"
	default:
		return t.String()
	}
}

func valueKind(v any) string {
	if v == nil {
		return "null"
	}
	switch reflect.TypeOf(v).Kind() {
	case reflect.Map:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// decoderConfig is strict about keys but keeps weak typing, which the
// environment's strings need. A custom DecoderConfig replaces koanf's
// default hooks, so they are added back (koanf's "d" days suffix aside).
func decoderConfig() *mapstructure.DecoderConfig {
	return &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			numberHook,
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
			mapstructure.TextUnmarshallerHookFunc(),
		),
		ErrorUnused:      true,
		WeaklyTypedInput: true,
		TagName:          "koanf",
		// Keys are case-sensitive, as unknownKeys assumes: "Server" is an
		// unknown key, not server.
		MatchName: func(mapKey, fieldName string) bool { return mapKey == fieldName },
	}
}

func unmarshal(k *koanf.Koanf, out *Config) error {
	return k.UnmarshalWithConf("", out, koanf.UnmarshalConf{DecoderConfig: decoderConfig()})
}

var durationType = reflect.TypeFor[time.Duration]()

// numberHook rejects numbers that mapstructure would otherwise take
// silently and wrongly: a bare number for a duration (10 would be 10ns; a
// string "10" already fails for want of a unit), a fraction for an integer
// (80.5 would be 80), and integers out of int64's range.
func numberHook(from, to reflect.Type, data any) (any, error) {
	v := reflect.ValueOf(data)
	isInt := to.Kind() >= reflect.Int && to.Kind() <= reflect.Int64
	if !isInt || from == durationType {
		return data, nil
	}
	var f float64
	switch from.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f = float64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if v.Uint() > math.MaxInt64 {
			return nil, fmt.Errorf("%d is out of range", v.Uint())
		}
		f = float64(v.Uint())
	case reflect.Float32, reflect.Float64:
		f = v.Float()
		if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return nil, fmt.Errorf("%v is not a whole number in range", data)
		}
	default:
		return data, nil
	}
	if to == durationType && f != 0 {
		return nil, fmt.Errorf("%v has no unit; write a duration such as \"%vs\"", data, data)
	}
	return data, nil
}

type unknownKey struct {
	key  string
	hint string
}

// unknownKeys lists, sorted, the keys of a raw config map that Config does
// not have, as full dotted paths ("server.prot",
// "plugins.external[0].nmae").
func unknownKeys(raw map[string]any) []unknownKey {
	var out []unknownKey
	walkKeys("", raw, reflect.TypeFor[Config](), &out)
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

func walkKeys(prefix string, raw map[string]any, t reflect.Type, out *[]unknownKey) {
	fields := koanfFields(t)
	for k, v := range raw {
		path := prefix + k
		ft, ok := fields[k]
		if !ok {
			*out = append(*out, unknownKey{key: path, hint: suggest(prefix, k, fields)})
			continue
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType:
			if m, ok := v.(map[string]any); ok {
				walkKeys(path+".", m, ft, out)
			}
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			list, ok := v.([]any)
			if m, isMap := v.(map[string]any); isMap {
				// Weak typing decodes a lone mapping as a one-item list.
				list, ok = []any{m}, true
			}
			if ok {
				for i, e := range list {
					if m, ok := e.(map[string]any); ok {
						walkKeys(path+"["+strconv.Itoa(i)+"].", m, ft.Elem(), out)
					}
				}
			}
		}
	}
}

// koanfFields maps the koanf tags of t's exported fields to their types.
func koanfFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fields[name] = f.Type
	}
	return fields
}

// suggest returns a hint for an unknown key: how to write a dotted key, or
// the known sibling it is probably a typo of.
func suggest(prefix, key string, fields map[string]reflect.Type) string {
	if head, _, ok := strings.Cut(key, "."); ok {
		if _, known := fields[head]; known {
			return "dotted keys are not expanded; nest it under " + strconv.Quote(prefix+head)
		}
	}
	best, bestDist := "", 3 // at most two edits away
	for name := range fields {
		d := editDistance(strings.ToLower(key), name)
		if d < bestDist || (d == bestDist && name < best) {
			best, bestDist = name, d
		}
	}
	if best == "" {
		return ""
	}
	return "did you mean " + strconv.Quote(prefix+best) + "?"
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
