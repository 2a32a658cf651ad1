package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExportImportFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mem := filepath.Join(dir, "memory.jsonl")
	if err := os.WriteFile(mem, []byte(`{"type":"entity","name":"Wombat","entityType":"animal","observations":["digs burrows"]}
{"type":"relation","from":"Wombat","to":"Burrow","relationType":"digs"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	a := setup(t)
	r := a.mustRun(t, 0, "server", "import", "--file", mem, "--project", "zoo")
	if !strings.Contains(r.stdout, "mcp-memory") || !strings.Contains(r.stdout, "entity") {
		t.Errorf("import --file memory.jsonl:\n%s", r.stdout)
	}
	if r := a.mustRun(t, 0, "server", "import", "--file", mem, "--project", "zoo"); !strings.Contains(r.stdout, "nothing new") {
		t.Errorf("second import:\n%s", r.stdout)
	}
	out := filepath.Join(dir, "export.jsonl")
	r = a.mustRun(t, 0, "server", "export", "--out", out)
	if !strings.Contains(r.stderr, "exported") || !strings.Contains(r.stderr, "2 observations") {
		t.Errorf("export progress on stderr:\n%s", r.stderr)
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}

	b := setup(t)
	r = b.mustRun(t, 0, "server", "import", "--file", out)
	if !strings.Contains(r.stdout, "claude-mem-jsonl") || !strings.Contains(r.stderr, "imported") {
		t.Errorf("import --file export:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	second := b.mustRun(t, 0, "server", "export").stdout
	if second != string(first) {
		t.Errorf("re-export differs:\n%s\n---\n%s", first, second)
	}
	if r := b.run(t, "server", "import", "--file", mem, "--format", "nope"); r.code == 0 {
		t.Error("--format nope succeeded")
	}

	// With the server running, both go through its API.
	b.mustRun(t, 0, "server", "start")
	defer b.mustRun(t, 0, "server", "stop")
	r = b.mustRun(t, 0, "server", "export")
	if r.stdout != string(first) || !strings.Contains(r.stderr, "exporting from http://") {
		t.Errorf("export through the API:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	r = b.mustRun(t, 0, "server", "import", "--file", out)
	if !strings.Contains(r.stderr, "sending ") || !strings.Contains(r.stdout, "nothing new") {
		t.Errorf("import through the API:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	if r := b.run(t, "server", "export", "--team", "local"); r.code == 0 || !strings.Contains(r.stderr, "--offline") {
		t.Errorf("--team through the API: %d %s", r.code, r.stderr)
	}
	if r := b.mustRun(t, 0, "server", "export", "--offline", "--team", "local"); r.stdout != string(first) {
		t.Errorf("--offline export while running differs:\n%s", r.stdout)
	}
}
