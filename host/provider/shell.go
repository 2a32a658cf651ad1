package provider

import (
	"regexp"
	"strconv"
	"strings"
)

// shellResult is what the heuristic reads from a shell tool's response.
type shellResult struct {
	text        string // stdout and stderr
	exit        int
	hasExit     bool
	interrupted bool
}

var (
	reExitLine = regexp.MustCompile(`(?im)^(?:process exited with code|exit code:?|exit status)\s*(-?\d+)\b`)
	// reFailure spots failures in output that carries no exit code (Claude
	// Code's Bash response has none).
	reFailure = regexp.MustCompile(`(?m)^(?:FAIL(?:ED)?\b|--- FAIL|npm ERR!|error(?:\[E\d+\])?:|Error:|ERROR\b|panic:|fatal:|Traceback \(most recent call last\)|make: \*\*\*)|command not found|(?:^|\s)exit status [1-9]\d*\b`)
	// reErrorLine finds the line worth quoting as the first error.
	reErrorLine   = regexp.MustCompile(`(?i)\b(?:error|fail(?:ed|ure)?|panic|exception|traceback|fatal|not found|denied)\b`)
	reCount       = regexp.MustCompile(`(?i)\b(\d+) (passed|failed|passing|failing|skipped)\b`)
	reGoPkgOK     = regexp.MustCompile(`(?m)^ok\s+\S+`)
	reGoPkgFail   = regexp.MustCompile(`(?m)^FAIL\s+\S+`)
	reGoTestFail  = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)
	reEnvAssign   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=\S*$`)
	reShellSplits = regexp.MustCompile(`\s*(?:&&|\|\||;|\|)\s*`)
)

func parseShellOutput(out string) shellResult {
	var r shellResult
	m, text := decodeObject(out)
	if m != nil {
		parts := []string{str(m, "stdout", "output", "aggregated_output", "formatted_output", "result", "content"), str(m, "stderr")}
		var nonEmpty []string
		for _, p := range parts {
			if strings.TrimSpace(p) != "" {
				nonEmpty = append(nonEmpty, p)
			}
		}
		r.text = strings.Join(nonEmpty, "\n")
		r.exit, r.hasExit = num(m, "exit_code", "exitCode", "returncode", "return_code")
		if b, ok := m["interrupted"].(bool); ok {
			r.interrupted = b
		}
		if meta, ok := m["metadata"].(map[string]any); ok && !r.hasExit {
			r.exit, r.hasExit = num(meta, "exit_code", "exitCode")
		}
	} else {
		r.text = text
	}
	if !r.hasExit {
		if sm := reExitLine.FindStringSubmatch(r.text); sm != nil {
			r.exit, _ = strconv.Atoi(sm[1])
			r.hasExit = true
		}
	}
	return r
}

func (r shellResult) failed() bool {
	if r.interrupted {
		return true
	}
	if r.hasExit {
		return r.exit != 0
	}
	for _, m := range reCount.FindAllStringSubmatch(r.text, -1) {
		if w := strings.ToLower(m[2]); (w == "failed" || w == "failing") && m[1] != "0" {
			return true
		}
	}
	return reFailure.MatchString(r.text)
}

// firstError is the first line of the output that looks like an error.
func (r shellResult) firstError() string {
	for line := range strings.Lines(r.text) {
		line = strings.TrimSpace(line)
		if line != "" && reErrorLine.MatchString(line) {
			return shorten(line, 200)
		}
	}
	return ""
}

// testCounts summarises test results found in the output: "12 passed, 1
// failed" (pytest, cargo, jest, vitest, mocha) or "3 packages ok, 1 failed"
// (go test).
func (r shellResult) testCounts() string {
	counts := map[string]int{}
	var order []string
	for _, m := range reCount.FindAllStringSubmatch(r.text, -1) {
		word := strings.ToLower(m[2])
		switch word {
		case "passing":
			word = "passed"
		case "failing":
			word = "failed"
		}
		n, _ := strconv.Atoi(m[1])
		if _, seen := counts[word]; !seen {
			order = append(order, word)
		}
		counts[word] += n
	}
	if len(order) > 0 {
		parts := make([]string, len(order))
		for i, w := range order {
			parts[i] = strconv.Itoa(counts[w]) + " " + w
		}
		return strings.Join(parts, ", ")
	}
	ok, fail := len(reGoPkgOK.FindAllString(r.text, -1)), len(reGoPkgFail.FindAllString(r.text, -1))
	switch {
	case ok+fail == 0:
		return ""
	case fail == 0:
		return plural(ok, "package") + " ok"
	default:
		return plural(ok, "package") + " ok, " + strconv.Itoa(fail) + " failed"
	}
}

// failingTests lists go test's failing test names.
func (r shellResult) failingTests() []string {
	var out []string
	for _, m := range reGoTestFail.FindAllStringSubmatch(r.text, -1) {
		out = appendUnique(out, m[1])
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "s") || strings.HasSuffix(word, "ch") || strings.HasSuffix(word, "sh") || strings.HasSuffix(word, "x") {
		return strconv.Itoa(n) + " " + word + "es"
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// commandClass says what a command line does.
type commandClass int

const (
	cmdOther commandClass = iota
	cmdLook               // only looks: ls, cat, grep, git status, …
	cmdTest
	cmdBuild
	cmdCommit // records history: git commit, push, merge, …
)

var lookCommands = map[string]bool{
	"ls": true, "pwd": true, "cat": true, "head": true, "tail": true, "echo": true, "cd": true,
	"which": true, "wc": true, "find": true, "tree": true, "grep": true, "rg": true, "ag": true,
	"file": true, "stat": true, "du": true, "df": true, "env": true, "printenv": true, "type": true,
	"less": true, "more": true, "date": true, "whoami": true, "uname": true, "sed": true, "awk": true,
	"jq": true, "sort": true, "uniq": true, "diff": true, "true": true, "fd": true, "bat": true,
}

var gitLook = map[string]bool{
	"status": true, "log": true, "diff": true, "show": true, "branch": true, "remote": true,
	"blame": true, "rev-parse": true, "ls-files": true, "grep": true, "config": true,
}

var gitCommit = map[string]bool{
	"commit": true, "push": true, "merge": true, "rebase": true, "tag": true, "cherry-pick": true, "revert": true,
}

// classifyCommand classifies a command line by its segments (split at &&,
// ||, ; and |): it only looks when every segment only looks; otherwise the
// strongest segment wins (commit, then test, then build).
func classifyCommand(cmd string) commandClass {
	segs := reShellSplits.Split(strings.TrimSpace(cmd), -1)
	allLook := true
	best := cmdOther
	for _, seg := range segs {
		words := strings.Fields(seg)
		for len(words) > 0 && (reEnvAssign.MatchString(words[0]) || words[0] == "sudo" || words[0] == "time" || words[0] == "env") {
			words = words[1:]
		}
		if len(words) == 0 {
			continue
		}
		c := classifyWords(words)
		if c != cmdLook {
			allLook = false
		}
		if rank(c) > rank(best) {
			best = c
		}
	}
	if allLook {
		return cmdLook
	}
	return best
}

func rank(c commandClass) int {
	switch c {
	case cmdCommit:
		return 3
	case cmdTest:
		return 2
	case cmdBuild:
		return 1
	}
	return 0
}

func classifyWords(w []string) commandClass {
	prog := w[0]
	if i := strings.LastIndexByte(prog, '/'); i >= 0 {
		prog = prog[i+1:]
	}
	arg := func(i int) string {
		if i < len(w) {
			return w[i]
		}
		return ""
	}
	joined := " " + strings.Join(w, " ") + " "
	switch prog {
	case "git":
		sub := arg(1)
		switch {
		case gitCommit[sub]:
			return cmdCommit
		case gitLook[sub]:
			return cmdLook
		}
		return cmdOther
	case "go":
		switch arg(1) {
		case "test":
			return cmdTest
		case "build", "vet", "install", "generate":
			return cmdBuild
		case "doc", "list", "env", "version":
			return cmdLook
		}
	case "pytest", "jest", "vitest", "mocha", "rspec", "phpunit", "ctest", "tox", "nox":
		return cmdTest
	case "cargo":
		switch arg(1) {
		case "test", "nextest":
			return cmdTest
		case "build", "check", "clippy":
			return cmdBuild
		}
	case "npm", "pnpm", "yarn", "bun", "deno":
		switch {
		case strings.Contains(joined, " test") || strings.Contains(joined, ":test"):
			return cmdTest
		case strings.Contains(joined, " build") || strings.Contains(joined, " lint") || strings.Contains(joined, " tsc"):
			return cmdBuild
		}
	case "make", "just", "task":
		if strings.Contains(joined, "test") {
			return cmdTest
		}
		return cmdBuild
	case "python", "python3", "uv":
		if strings.Contains(joined, "pytest") || strings.Contains(joined, "unittest") {
			return cmdTest
		}
	case "tsc", "gcc", "clang", "javac", "mvn", "gradle", "./gradlew", "gradlew", "golangci-lint", "eslint", "ruff", "mypy", "staticcheck":
		return cmdBuild
	case "sed":
		if arg(1) == "-n" || !strings.Contains(joined, " -i") {
			return cmdLook
		}
		return cmdOther
	}
	if lookCommands[prog] {
		return cmdLook
	}
	return cmdOther
}
