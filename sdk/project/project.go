// Package project is claude-mem's project naming: which project a working
// directory belongs to, the way claude-mem names it (behaviour §1.9).
//
// Adapters call For on the cwd of each hook payload, so that every agent's
// events land in the same projects as Claude Code's. The derivation does not
// run git: a hook must stay cheap, and the server may not even have git
// installed. It reads the .git entries it walks past, and nothing else.
package project

import (
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Unknown is claude-mem's name for a cwd that names nothing.
const Unknown = "unknown-project"

// maxRepoWalk bounds the walk up from cwd to the repository's top.
const maxRepoWalk = 128

// For names the project that cwd belongs to.
//
// The name is the basename of the repository's top, found by walking up
// from cwd to the first directory holding a .git directory or file, and
// the basename of cwd itself when there is none on this machine (the agent
// may run elsewhere). A linked worktree is named "<parent>/<worktree>",
// and parent then names the main repository, so that context can read both
// as claude-mem's allProjects does; parent is "" otherwise. An empty or
// root cwd is Unknown, and a Windows drive root is "drive-C". A leading ~
// is the user's home directory.
func For(cwd string) (name, parent string) {
	cwd = strings.TrimSpace(cwd)
	if cwd == "" {
		return Unknown, ""
	}
	top := expandHome(cwd)
	if root, p, ok := findRepo(top); ok {
		top, parent = root, p
	}
	name = baseName(top)
	switch {
	case isDriveRoot(name):
		return "drive-" + strings.ToUpper(name[:1]), ""
	case name == "" || name == "." || name == "..":
		return Unknown, ""
	case parent != "":
		return parent + "/" + name, parent
	}
	return name, ""
}

// findRepo walks up from dir to the top of the git work tree that holds it.
// A missing or unreadable directory just ends the walk: the path may only
// exist on the agent's machine.
func findRepo(dir string) (top, parent string, ok bool) {
	if !filepath.IsAbs(dir) {
		return "", "", false
	}
	dir = filepath.Clean(dir)
	for range maxRepoWalk {
		gitPath := filepath.Join(dir, ".git")
		if fi, err := os.Stat(gitPath); err == nil {
			switch {
			case fi.IsDir():
				return dir, "", true
			case fi.Mode().IsRegular():
				// A .git file points elsewhere: a linked worktree or
				// a submodule. Either way dir is the work tree's top.
				return dir, worktreeParent(dir, gitPath), true
			}
		}
		up := filepath.Dir(dir)
		if up == dir {
			break
		}
		dir = up
	}
	return "", "", false
}

// worktreeParent reads a .git file ("gitdir: <path>") and returns the name
// of the main repository when the path is a linked worktree's
// (<repo>/.git/worktrees/<name>, or <repo>.git/worktrees/<name> for a bare
// repository), and "" otherwise, e.g. for a submodule's .git/modules/<name>.
func worktreeParent(dir, gitFile string) string {
	f, err := os.Open(gitFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(b), "\n")
	gitdir, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir:")
	if !ok {
		return ""
	}
	gitdir = strings.TrimSpace(gitdir)
	if gitdir == "" {
		return ""
	}
	if !filepath.IsAbs(gitdir) {
		// git writes relative paths with worktree.useRelativePaths.
		gitdir = filepath.Join(dir, gitdir)
	}
	gitdir = strings.TrimRight(filepath.ToSlash(gitdir), "/")
	i := strings.LastIndex(gitdir, "/worktrees/")
	if i < 0 || strings.Contains(gitdir[i+len("/worktrees/"):], "/") {
		return ""
	}
	repoGit := gitdir[:i]
	switch base := baseName(repoGit); {
	case base == ".git":
		return baseName(repoGit[:len(repoGit)-len("/.git")])
	case strings.HasSuffix(base, ".git") && base != ".git":
		return strings.TrimSuffix(base, ".git")
	}
	return ""
}

// baseName is the last element of p, for both / and \ separators: the cwd
// comes from the agent's machine, which may be Windows while the server is
// not.
func baseName(p string) string {
	p = strings.TrimRight(p, `/\`)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// isDriveRoot reports whether s is a bare Windows drive such as "C:".
func isDriveRoot(s string) bool {
	return len(s) == 2 && s[1] == ':' && (s[0]|0x20) >= 'a' && (s[0]|0x20) <= 'z'
}

// expandHome expands a leading ~ as claude-mem does.
func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, p[1:])
}
