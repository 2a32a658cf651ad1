package project_test

import (
	"fmt"

	"github.com/claude-mem/claude-mem-server/sdk/project"
)

// A cwd from another machine names its project by its last element; the
// repository walk only finds what exists on this one.
func ExampleFor() {
	for _, cwd := range []string{`C:\Users\dev\src\billing-api`, `c:\`, "/", ""} {
		name, parent := project.For(cwd)
		fmt.Printf("%q -> %q %q\n", cwd, name, parent)
	}
	// Output:
	// "C:\\Users\\dev\\src\\billing-api" -> "billing-api" ""
	// "c:\\" -> "drive-C" ""
	// "/" -> "unknown-project" ""
	// "" -> "unknown-project" ""
}
