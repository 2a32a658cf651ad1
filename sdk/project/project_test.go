package project

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFor(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mkdir := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, content string) {
		t.Helper()
		mkdir(filepath.Dir(p))
		if err := os.WriteFile(filepath.Join(root, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mkdir("repo/.git/worktrees/wt")
	mkdir("repo/cmd/server")
	write("wts/wt/.git", "gitdir: "+filepath.Join(root, "repo/.git/worktrees/wt")+"\n")
	write("rel/feature/.git", "gitdir: ../../repo/.git/worktrees/feature\n")
	write("bare-wt/hotfix/.git", "gitdir: "+filepath.Join(root, "mirror.git/worktrees/hotfix"))
	write("repo/vendor/sub/.git", "gitdir: ../../.git/modules/sub\n")
	write("odd/.git", "not a gitdir line\n")
	mkdir("plain/dir")

	for name, tc := range map[string]struct {
		cwd, want, parent string
	}{
		"repo top":                 {cwd: filepath.Join(root, "repo"), want: "repo"},
		"repo subdirectory":        {cwd: filepath.Join(root, "repo/cmd/server"), want: "repo"},
		"trailing separator":       {cwd: filepath.Join(root, "repo/cmd") + "/", want: "repo"},
		"subdir missing on disk":   {cwd: filepath.Join(root, "repo/not/yet/created"), want: "repo"},
		"linked worktree":          {cwd: filepath.Join(root, "wts/wt"), want: "repo/wt", parent: "repo"},
		"relative worktree gitdir": {cwd: filepath.Join(root, "rel/feature"), want: "repo/feature", parent: "repo"},
		"bare repo worktree":       {cwd: filepath.Join(root, "bare-wt/hotfix"), want: "mirror/hotfix", parent: "mirror"},
		"submodule":                {cwd: filepath.Join(root, "repo/vendor/sub"), want: "sub"},
		"unparsable .git file":     {cwd: filepath.Join(root, "odd"), want: "odd"},
		"no repository":            {cwd: filepath.Join(root, "plain/dir"), want: "dir"},
		"empty":                    {cwd: "", want: Unknown},
		"blank":                    {cwd: "  ", want: Unknown},
		"root":                     {cwd: "/", want: Unknown},
		"windows path":             {cwd: `C:\Users\dev\src\billing-api`, want: "billing-api"},
		"windows drive root":       {cwd: `c:\`, want: "drive-C"},
		"relative dot":             {cwd: ".", want: Unknown},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, parent := For(tc.cwd)
			if got != tc.want || parent != tc.parent {
				t.Errorf("For(%q) = %q, %q; want %q, %q", tc.cwd, got, parent, tc.want, tc.parent)
			}
		})
	}
}
